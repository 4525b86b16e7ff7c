// A dump file that is never half there: written to a 0600 temporary file in the target
// directory and renamed into place by commit(). If commit() is never reached (error, signal,
// exception) the destructor removes the temporary. A temporary left by a SIGKILLed run is
// removed by the next run in the same directory (clean_stale_temporaries).
// A compressed dump (created with a zstd level) is the same file written through
// compress::SeekableZstdWriter: the zstd seekable format, compressed on worker threads while
// it is written. Its writer must say which head of the file it writes out of order
// (declare_head) before its first write; past the head, bytes must come in increasing order of
// the writer's 1 MiB frames, as memory does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "output/early_writeback.h"

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
    // A dump written into a descriptor the caller owns (the library's dumpscope_write_dump):
    // a duplicate of `fd`, which must be a regular file opened for writing; the dump starts at
    // offset 0 and commit() sets the file's size. Nothing is renamed. If commit() is never
    // reached (error, cancel) the file is truncated to 0 bytes: no partial dump is left.
    // `name` names it in messages ("descriptor 5").
    static Result<DumpFile> adopt_descriptor(int fd, std::string name);

    DumpFile(DumpFile&& other) noexcept;
    DumpFile& operator=(DumpFile&&) = delete;
    DumpFile(const DumpFile&) = delete;
    ~DumpFile();

    // Bytes [0, size) are written in any order and at any time before commit() (headers,
    // directories, notes); only a compressed dump needs this, before its first write.
    Status declare_head(uint64_t size);
    bool compressed() const { return zstd_level_.has_value(); }

    // A compressed dump written while its target is paused: no write waits for the compressor
    // (compress::SeekableZstdWriter's never-block mode, spill file next to the dump); turned off
    // when the target is resumed. No effect on a plain dump.
    void set_never_block(bool on);
    // After commit() of a compressed dump: how many frames, how many went through the spill
    // file, how long the backlog took after the never-block mode ended; "" for a plain dump.
    std::string compression_summary() const { return compression_summary_; }

    // Writes bytes at an absolute offset.
    Status write_at(uint64_t offset, std::span<const uint8_t> bytes);
    // Like write_at, but whole 4 KiB pages of zeros are skipped, leaving holes (sparse file).
    Status write_sparse_at(uint64_t offset, std::span<const uint8_t> bytes);
    // Finishes the file under its temporary name (a compressed dump gets its last frames and
    // its seek table), sets the final size and flushes: temp_path() is then a whole dump a
    // reader can open, and nothing more can be written. commit() renames it into place.
    Status complete(uint64_t final_size);
    // Flushes, sets the final size (holes at the end count), renames into place (complete()
    // first unless it was called; final_size is then ignored).
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
    bool completed_ = false;
    bool adopted_ = false;  // adopt_descriptor: the caller's file, truncated on failure
    std::optional<int> zstd_level_;
    std::unique_ptr<compress::SeekableZstdWriter> zstd_;
    std::unique_ptr<EarlyWriteback> writeback_;  // a stable address for the compressor's writes
    bool never_block_ = false;
    std::string compression_summary_;
};

// Removes ".dumpscope-tmp.<pid>.*" files in dir whose writer process no longer exists.
void clean_stale_temporaries(const std::string& dir);

}  // namespace dumpscope
