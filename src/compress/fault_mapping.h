// The decompressed bytes of a zstd seekable file as one read-only span of memory, filled on
// demand: an anonymous MAP_NORESERVE mapping registered with userfaultfd, whose missing-page
// faults a handler thread resolves by decompressing the frame that holds the page (UFFDIO_COPY,
// or UFFDIO_ZEROPAGE for a frame of zeros). Frames beyond a resident bound are dropped with
// MADV_DONTNEED, least recently filled first, and fault in again when touched, so memory stays
// bounded whatever the dump's size. A frame that fails to decompress still resolves the fault
// (zeros) and records the error (read_error(), compress/read_errors.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/mapped_file.h"
#include "common/result.h"
#include "compress/seekable_reader.h"

namespace dumpscope::compress {

inline constexpr uint64_t kDefaultResidentBytes = uint64_t{64} << 20;

class FaultMapping : public MappedFile::Backing {
public:
    // Fails (with the reason) if userfaultfd is not available here: the caller falls back.
    static Result<std::unique_ptr<FaultMapping>> create(std::unique_ptr<SeekableZstdFile> file,
                                                        uint64_t resident_bytes);
    ~FaultMapping() override;
    FaultMapping(const FaultMapping&) = delete;
    FaultMapping& operator=(const FaultMapping&) = delete;

    const uint8_t* data() const { return base_; }
    uint64_t size() const { return file_->size(); }
    std::optional<std::string> read_error() const override;
    // The decompressed bytes at `offset` through the seekable reader (its frame cache), without
    // touching the mapping: for scans, which would otherwise fault in and evict every page. A
    // frame that fails to decompress is recorded as for a fault, and ends the read there.
    bool can_read_at() const override { return true; }
    Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) const override;

private:
    FaultMapping(std::unique_ptr<SeekableZstdFile> file, uint64_t resident_bytes);
    void serve();
    void resolve(uint64_t fault_offset);
    // A frame that failed to decompress: for read_error() and the process's first_read_error().
    void note_read_error(const std::string& message) const;

    std::unique_ptr<SeekableZstdFile> file_;
    uint64_t resident_bytes_;
    uint8_t* base_ = nullptr;
    uint64_t length_ = 0;  // the mapping: size() rounded up to pages
    int uffd_ = -1;
    int stop_fd_ = -1;  // an eventfd: the destructor wakes the handler with it
    std::thread handler_;
    mutable std::mutex error_mutex_;
    mutable std::optional<std::string> error_;  // the first failure (read_at is const)
    struct Impl;
    std::unique_ptr<Impl> impl_;  // the handler's bookkeeping (resident ranges, buffer)
};

}  // namespace dumpscope::compress
