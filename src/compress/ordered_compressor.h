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

    // Compresses input[0, size) (the buffer is taken; get one from take_buffer()). With
    // wait false it never waits (call it only when has_room()); frames ready are emitted.
    Status submit(std::vector<uint8_t> input, size_t size, bool wait = true);
    // Queues an already compressed frame behind the others (e.g. a frame of zeros made once).
    Status submit_compressed(std::shared_ptr<const std::vector<uint8_t>> frame,
                             uint32_t decompressed_size, bool wait = true);
    // Queues a frame whose bytes are in file `fd` at [offset, offset+size) (holes and bytes past
    // the end are zeros): the worker that takes it reads it, then punches the range out of the
    // file. Never waits; holds no memory until a worker takes it. fd must outlive the queue.
    Status submit_spilled(int fd, uint64_t offset, size_t size);
    // Emits everything submitted so far.
    Status drain();
    // True when fewer than max_in_flight frames held in memory are queued: one more submit()
    // keeps memory bounded.
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
    static std::string read_spilled(Job& job);
    // Emits the frames done at the front; with all, waits for every frame; else with wait,
    // waits while more than max_in_flight are queued.
    Status emit_ready(std::unique_lock<std::mutex>& lock, bool all, bool wait = true);

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
    size_t in_memory_ = 0;  // queued by submit(), not emitted yet
    std::vector<std::thread> workers_;
};

}  // namespace dumpscope::compress
