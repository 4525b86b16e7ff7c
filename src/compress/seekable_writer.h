// Writes a dump as a zstd seekable file while the dump is being written, accepting bytes at
// absolute offsets the way output/DumpFile does. The dump writers write out of order: the head
// of the file (header, directory, small streams) last, memory in increasing order, a record at
// the end. So:
//   - the caller declares the head, [0, deferred_head): bytes there may be written at any time
//     before finish(); they are kept in memory (at most kMaxDeferredHead) and compressed at the
//     end into a slot reserved at the start of the physical file;
//   - every byte at or after the head goes into fixed-size frames (frame_size, aligned in the
//     decompressed file) that must be written in non-decreasing frame order: a write into a
//     frame already compressed is an error. Bytes never written are zeros.
// A frame is compressed by a worker thread once a later frame is written. The physical file is
// [head frames][padding skippable frame][body frames][seek table frame]: a valid zstd stream
// (every zstd decoder skips the padding) whose seek table lists every frame, the padding as a
// frame of 0 decompressed bytes. Each frame carries its content size and checksum; the seek
// table carries the checksums too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "compress/seek_table.h"

namespace dumpscope::compress {

class OrderedCompressor;

inline constexpr uint64_t kMaxDeferredHead = uint64_t{64} << 20;
inline constexpr uint32_t kDefaultFrameSize = 4u << 20;
// Level 1: see bench/RESULTS.md ("zstd seekable level") for the measurement behind it.
inline constexpr int kDefaultCompressionLevel = 1;

// "1".."19" (zstd's levels; --compress=LEVEL), or an error saying so.
Result<int> parse_compression_level(const std::string& text);

struct SeekableWriterOptions {
    int level = kDefaultCompressionLevel;
    uint32_t frame_size = kDefaultFrameSize;  // a multiple of 4096
    uint64_t deferred_head = 0;               // rounded up to 4096
    unsigned threads = 0;                     // 0: one per CPU
};

class SeekableZstdWriter {
public:
    // Writes the physical file's bytes at absolute offsets (a DumpFile, a buffer).
    using Sink = std::function<Status(uint64_t offset, std::span<const uint8_t> bytes)>;

    // `name` names the output in errors.
    static Result<std::unique_ptr<SeekableZstdWriter>> create(Sink sink,
                                                              SeekableWriterOptions options,
                                                              std::string name);
    ~SeekableZstdWriter();
    SeekableZstdWriter(const SeekableZstdWriter&) = delete;
    SeekableZstdWriter& operator=(const SeekableZstdWriter&) = delete;

    Status write_at(uint64_t offset, std::span<const uint8_t> bytes);
    // Compresses what is left, the head and the seek table; the decompressed file is
    // decompressed_size bytes (zeros after the last write). Returns the physical size.
    Result<uint64_t> finish(uint64_t decompressed_size);

    uint64_t head_size() const { return head_.size(); }
    const std::vector<SeekFrame>& frames() const { return entries_; }  // after finish()

private:
    SeekableZstdWriter(Sink sink, SeekableWriterOptions options, std::string name);
    Status write_body(uint64_t offset, std::span<const uint8_t> bytes);
    Status close_current(uint64_t end);
    Status emit_zero_frames_until(uint64_t frame_index, uint64_t end);
    uint64_t frame_start(uint64_t index) const;
    Status emit(std::span<const uint8_t> frame, uint32_t decompressed_size);

    Sink sink_;
    SeekableWriterOptions options_;
    std::string name_;
    std::unique_ptr<OrderedCompressor> compressor_;
    std::vector<uint8_t> head_;
    uint64_t slot_size_ = 0;      // physical bytes reserved for the head
    uint64_t next_physical_ = 0;  // where emit() writes the next frame
    uint64_t next_frame_ = 0;     // the first body frame not yet open or emitted
    bool frame_open_ = false;     // current_ holds frame next_frame_ - 1
    std::vector<uint8_t> current_;
    uint64_t current_filled_ = 0;  // current_[0, this) is written or zeroed; the rest is stale
    uint64_t written_end_ = 0;     // the end of the highest byte written
    std::shared_ptr<const std::vector<uint8_t>> zero_frame_;
    std::vector<SeekFrame> entries_;
    bool finished_ = false;
    bool failed_ = false;
};

}  // namespace dumpscope::compress
