// Random access into a zstd seekable file: opens it, parses the seek table, checks that every
// frame the table lists starts with a zstd frame header (or a skippable frame for entries of 0
// bytes) whose content size, when the header has one, is the table's, and reads any range of
// the decompressed bytes by decompressing only the frames it touches. Decompressed frames are
// kept in a small least-recently-used cache of bounded size. Thread-safe: threads decompress
// frames at the same time (each with a context of its own), outside the cache's lock.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "compress/seek_table.h"

namespace dumpscope::compress {

// True if the file starts with a zstd frame and ends with a seekable footer.
bool is_seekable_zstd(const std::string& path);

class SeekableZstdFile {
public:
    static Result<std::unique_ptr<SeekableZstdFile>> open(const std::string& path,
                                                          uint64_t cache_bytes = 32u << 20);
    ~SeekableZstdFile();
    SeekableZstdFile(const SeekableZstdFile&) = delete;
    SeekableZstdFile& operator=(const SeekableZstdFile&) = delete;

    uint64_t size() const { return table_.decompressed_size; }
    uint64_t compressed_size() const { return file_size_; }
    const SeekTable& table() const { return table_; }
    const std::string& path() const { return path_; }

    // Reads out.size() bytes at decompressed offset `offset` (the range must lie in the file).
    // An error names the file, the frame's offsets and what is wrong with it.
    Status read(uint64_t offset, std::span<uint8_t> out);
    // Decompresses frame `index` whole into out (out.size() must be its decompressed size),
    // bypassing the cache: for callers that keep the bytes themselves.
    Status read_frame(size_t index, std::span<uint8_t> out);

private:
    struct CachedFrame {
        size_t index;
        std::unique_ptr<uint8_t[]> bytes;  // not zero-filled: decompression writes every byte
        size_t size;
    };
    SeekableZstdFile(std::string path, const uint8_t* data, uint64_t file_size, SeekTable table,
                     uint64_t cache_bytes);
    Status check_frames(int fd) const;
    // The cached frame, moved to the front, or null; with mutex_ held.
    const uint8_t* cached(size_t index);
    // Decompresses frame `index` into the cache (unless another thread did meanwhile) and
    // returns it; called and returning with `lock` held, which it lets go of meanwhile.
    Result<const uint8_t*> fill(size_t index, std::unique_lock<std::mutex>& lock);
    Status decompress(void* dctx, size_t index, uint8_t* out) const;
    void* take_context();           // with mutex_ held: a spare ZSTD_DCtx, or a new one
    void give_context(void* dctx);  // with mutex_ held

    std::string path_;
    const uint8_t* data_;  // the compressed file, mapped
    uint64_t file_size_;
    SeekTable table_;
    uint64_t cache_bytes_;
    std::mutex mutex_;
    std::list<CachedFrame> cache_;  // most recently used first
    uint64_t cached_ = 0;
    std::vector<void*> spare_dctx_;  // ZSTD_DCtx, not in use
};

}  // namespace dumpscope::compress
