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
// Never-block mode (set_never_block, while a target is paused): no write waits for the
// compressor. A frame the workers cannot take now (at most two per worker are queued) goes
// raw into a spill file (sparse: zero pages are not written) and is queued by reference: a
// worker reads it back when its turn comes (in frame order, so the file stays in order), during
// the pause or after it, and punches the hole back. The spill file is first a memfd, up to
// options.memory_spill_bytes (by default a quarter of MemAvailable, at most 4 GiB: the disk
// is spared writing and reading back a raw copy of most of the dump), then an unlinked temporary
// in options.spill_dir. Memory stays bounded: only frames queued with their bytes count, spilled
// ones hold none until taken but the memfd's, within its bound. One worker
// fewer compresses meanwhile, so that the writer's thread, which reads the paused target, keeps a
// CPU.
#pragma once

#include <chrono>
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
// 1 MiB: a read touching one page decompresses 1 MiB, not 4 (stack --all on a 317 MB dump:
// 0.12-0.25 s against 0.15-0.32 s with 4 MiB frames, plain 0.09-0.11 s); 0.2 % larger.
inline constexpr uint32_t kDefaultFrameSize = 1u << 20;
// Level 1: see bench/RESULTS.md ("zstd seekable level") for the measurement behind it.
inline constexpr int kDefaultCompressionLevel = 1;

// "1".."19" (zstd's levels; --compress=LEVEL), or an error saying so.
Result<int> parse_compression_level(const std::string& text);

struct SeekableWriterOptions {
    int level = kDefaultCompressionLevel;
    uint32_t frame_size = kDefaultFrameSize;  // a multiple of 4096
    uint64_t deferred_head = 0;               // rounded up to 4096
    unsigned threads = 0;                     // 0: one per CPU
    std::string spill_dir;                    // never-block spill file; empty: $TMPDIR or /tmp
    // The most spilled into memory (a memfd) before the spill file; kAutoMemorySpill: a quarter
    // of MemAvailable, at most 4 GiB.
    static constexpr uint64_t kAutoMemorySpill = UINT64_MAX;
    uint64_t memory_spill_bytes = kAutoMemorySpill;
};

// What the never-block mode did, for the verbose output.
struct SeekableWriterStats {
    uint64_t frames = 0;                 // body and head frames compressed
    uint64_t spilled_frames = 0;         // frames that went through the spill file
    uint64_t spilled_bytes = 0;          // non-zero bytes written to it
    uint64_t memory_spilled_frames = 0;  // of them, through the memfd
    double backlog_ms = 0;               // from the end of never-block mode to the end of finish()
    std::string spill_error;             // why no spill file could be made (the writer then waited)
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
    // See never-block mode above. Turning it off does not wait: the backlog is compressed by
    // the next writes and finish().
    void set_never_block(bool on);
    // Compresses what is left, the head and the seek table; the decompressed file is
    // decompressed_size bytes (zeros after the last write). Returns the physical size.
    Result<uint64_t> finish(uint64_t decompressed_size);

    uint64_t head_size() const { return head_.size(); }
    const std::vector<SeekFrame>& frames() const { return entries_; }  // after finish()
    const SeekableWriterStats& stats() const { return stats_; }

private:
    SeekableZstdWriter(Sink sink, SeekableWriterOptions options, std::string name);
    Status write_body(uint64_t offset, std::span<const uint8_t> bytes);
    Status close_current(uint64_t end);
    Status emit_zero_frames_until(uint64_t frame_index, uint64_t end);
    uint64_t frame_start(uint64_t index) const;
    Status emit(std::span<const uint8_t> frame, uint32_t decompressed_size);
    // Hands a frame (buffer[0, size), body frame at decompressed offset `at`) to the compressor,
    // through the spill file in never-block mode when it has no room; a zero frame of
    // frame_size bytes likewise (it never needs room).
    Status queue_frame(std::vector<uint8_t> buffer, size_t size, uint64_t at);
    Status queue_zero_frame();
    bool open_spill();
    // The memfd, when the frame still fits in its bound; -1 otherwise.
    int memory_spill_for(size_t size);
    Status spill(int fd, const std::vector<uint8_t>& buffer, size_t size, uint64_t at);

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

    bool never_block_ = false;
    int spill_fd_ = -1;         // frames at their decompressed offset
    int memory_spill_fd_ = -1;  // likewise, in memory (memfd)
    bool memory_spill_decided_ = false;
    uint64_t memory_spill_bound_ = 0;
    uint64_t memory_spilled_ = 0;  // bytes of frames sent there (never more than the bound)
    std::chrono::steady_clock::time_point blocking_since_{};
    bool backlog_timed_ = false;
    SeekableWriterStats stats_;
};

}  // namespace dumpscope::compress
