// A dump file that is never half there: written to a 0600 temporary file in the target
// directory and renamed into place by commit(). If commit() is never reached (error, signal,
// exception) the destructor removes the temporary. A temporary left by a SIGKILLed run is
// removed by the next run in the same directory (clean_stale_temporaries).
// A compressed dump (created with a zstd level) is the same file written through
// compress::SeekableZstdWriter: the zstd seekable format, compressed on worker threads while
// it is written. Its writer must say which head of the file it writes out of order
// (declare_head) before its first write; past the head, bytes must come in increasing order of
// the writer's 4 MiB frames, as memory does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace dumpscope {

namespace compress {
class SeekableZstdWriter;
}

class DumpFile {
public:
    // Creates the temporary next to final_path. Fails if final_path exists and !overwrite, or
    // exists and is not a regular file (a device, FIFO, socket, directory or symbolic link is
    // never replaced or followed, even with overwrite; commit() checks again).
    // With zstd_level, the dump is written compressed (see above).
    static Result<DumpFile> create(const std::string& final_path, bool overwrite,
                                   std::optional<int> zstd_level = std::nullopt);

    DumpFile(DumpFile&& other) noexcept;
    DumpFile& operator=(DumpFile&&) = delete;
    DumpFile(const DumpFile&) = delete;
    ~DumpFile();

    // Bytes [0, size) are written in any order and at any time before commit() (headers,
    // directories, notes); only a compressed dump needs this, before its first write.
    Status declare_head(uint64_t size);
    bool compressed() const { return zstd_level_.has_value(); }

    // Writes bytes at an absolute offset.
    Status write_at(uint64_t offset, std::span<const uint8_t> bytes);
    // Like write_at, but whole 4 KiB pages of zeros are skipped, leaving holes (sparse file).
    Status write_sparse_at(uint64_t offset, std::span<const uint8_t> bytes);
    // Flushes, sets the final size (holes at the end count), renames into place.
    Status commit(uint64_t final_size);

    const std::string& final_path() const { return final_path_; }
    const std::string& temp_path() const { return temp_path_; }

private:
    DumpFile(int fd, std::string final_path, std::string temp_path, bool overwrite);
    void discard();
    Status start_compressor(uint64_t head);

    int fd_ = -1;
    std::string final_path_;
    std::string temp_path_;
    bool overwrite_ = false;
    bool committed_ = false;
    std::optional<int> zstd_level_;
    std::unique_ptr<compress::SeekableZstdWriter> zstd_;
};

// Removes ".dumpscope-tmp.<pid>.*" files in dir whose writer process no longer exists.
void clean_stale_temporaries(const std::string& dir);

}  // namespace dumpscope
