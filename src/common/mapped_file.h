// A whole regular file mapped read-only, unmapped on destruction: the dump readers' view of a
// dump, so opening a multi-gigabyte file costs a few page-table entries. An empty file is an
// Error ("PATH is empty"): nothing can be read from it. A mapping can also be adopted from a
// Backing that owns it (compress/: the decompressed bytes of a compressed dump, filled on
// demand); such a backing may fail to produce bytes after open, which read_error() reports.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace dumpscope {

class MappedFile {
public:
    // Owns the memory of an adopted mapping; destroyed (and so unmapped) with the MappedFile.
    class Backing {
    public:
        virtual ~Backing() = default;
        // The first failure to produce bytes (the bytes read as zeros), or nullopt.
        virtual std::optional<std::string> read_error() const = 0;
        // The bytes at `offset` produced into `out` without touching the mapping, as
        // MappedFile::read_at; false from can_read_at() when the backing has no such way.
        virtual bool can_read_at() const { return false; }
        virtual Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) const;
    };

    // kKeep keeps the file open beside the mapping, for read_at (a dump: scanning a gigabyte by
    // pread into a buffer costs a fifth of reading it through the mapping in a VM, whose page
    // tables and TLB misses are dear); kClose for the many files (modules) only read in place.
    enum class Descriptor : uint8_t { kClose, kKeep };
    static Result<MappedFile> open(const std::string& path,
                                   Descriptor descriptor = Descriptor::kClose);
    static MappedFile adopt(const uint8_t* data, uint64_t size, uint64_t disk_usage,
                            std::unique_ptr<Backing> backing);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&&) = delete;
    MappedFile(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    // The file's bytes at `offset` by pread (or from the backing of an adopted mapping), as the
    // mapping holds them; a short count at the end of the file. An Error without a kept
    // descriptor or a backing that reads (see can_read_at).
    Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) const;
    bool can_read_at() const { return fd_.valid() || (backing_ && backing_->can_read_at()); }
    uint64_t disk_usage() const { return disk_usage_; }  // allocated blocks * 512
    std::optional<std::string> read_error() const {
        return backing_ ? backing_->read_error() : std::nullopt;
    }

private:
    MappedFile(const uint8_t* data, uint64_t size, uint64_t disk_usage)
        : data_(data), size_(size), disk_usage_(disk_usage) {}

    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
    uint64_t disk_usage_ = 0;
    std::unique_ptr<Backing> backing_;  // set: it owns data_
    UniqueFd fd_;                       // Descriptor::kKeep: the file, for read_at
};

}  // namespace dumpscope
