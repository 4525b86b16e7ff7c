// Compresses buffers into independent zstd frames on a small pool of worker threads and hands
// the frames back in submission order, on the submitting thread (inside submit() and drain()),
// so the caller writes them sequentially while the workers use the other cores. At most
// max_in_flight buffers are queued: submit() blocks when the workers fall behind, unless the
// caller submits only while has_room() says so (then nothing waits: see SeekableZstdWriter's
// never-block mode).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/result.h"

namespace dumpscope::compress {

class OrderedCompressor {
public:
    // Called once per frame, in submission order: the zstd frame and its decompressed size.
    using Emit = std::function<Status(std::span<const uint8_t> frame, uint32_t decompressed_size)>;

    OrderedCompressor(int level, unsigned threads, size_t max_in_flight, Emit emit);
    ~OrderedCompressor();
    OrderedCompressor(const OrderedCompressor&) = delete;
    OrderedCompressor& operator=(const OrderedCompressor&) = delete;

    // Compresses input[0, size) (the buffer is taken; get one from take_buffer()).
    Status submit(std::vector<uint8_t> input, size_t size);
    // Queues an already compressed frame behind the others (e.g. a frame of zeros made once).
    Status submit_compressed(std::shared_ptr<const std::vector<uint8_t>> frame,
                             uint32_t decompressed_size);
    // Emits everything submitted so far.
    Status drain();
    // True when one more submit() or submit_compressed() would not wait for a worker.
    bool has_room();
    // At most n workers compress at once (at least 1; the others wait): leaves a CPU to a
    // thread that must not wait, such as a paused target's memory reader.
    void set_max_active(unsigned n);
    // Gives a buffer back for take_buffer() to reuse.
    void give_buffer(std::vector<uint8_t> buffer);
    // A buffer of at least `size` bytes, reused from finished jobs when possible (contents
    // unspecified).
    std::vector<uint8_t> take_buffer(size_t size);

    // Compresses one buffer on the calling thread with the same settings (content size and
    // checksum in the frame header), for frames made once.
    static Result<std::vector<uint8_t>> compress_frame(int level, std::span<const uint8_t> input);

private:
    struct Job;
    void work();
    Status emit_ready(std::unique_lock<std::mutex>& lock, bool all);

    int level_;
    size_t max_in_flight_;
    Emit emit_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable job_done_;
    std::deque<std::shared_ptr<Job>> in_order_;        // submitted, not emitted yet
    std::deque<std::shared_ptr<Job>> todo_;            // not picked by a worker yet
    std::vector<std::vector<uint8_t>> spare_;          // input buffers to reuse
    std::vector<std::vector<uint8_t>> spare_outputs_;  // output buffers to reuse
    bool stopping_ = false;
    unsigned max_active_ = 0;  // set in the constructor: every worker
    unsigned active_ = 0;
    std::vector<std::thread> workers_;
};

}  // namespace dumpscope::compress
