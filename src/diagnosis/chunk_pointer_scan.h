// The heap's chunks read for pointers on a second thread while the heap walk goes on, so that the
// reachability pass need not read the whole heap again after the walk (on this 2-CPU VM the
// second read was half the time `analyze` spent beyond the walk). The walk tells of the chunks as
// it finds them (HeapWalkObserver); this reads each one its header calls in use, as the
// reachability pass would (its user memory and the next chunk's prev_size word), and keeps each
// word that points into writable memory of the dump, where every chunk lies, with its offset.
// Which chunk a word points to is found after the walk, once all chunks are known
// (find_reachable). The dump is untrusted: at most `max_words` words are kept (12 bytes each)
// and `max_bytes` read by each reader; past that, or when anything fails, the result is not
// usable and the pass reads the chunks itself, as it would without this.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "diagnosis/forward_scan.h"
#include "diagnosis/glibc_heap_walk.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// The words kept of one chunk: ScannedChunks::values and offsets [first, last).
struct ScannedChunk {
    uint64_t address = 0;  // the chunk's header
    uint32_t first = 0, last = 0;
    uint64_t bytes = 0;  // the bytes read: less than the chunk's where the dump lacks the rest
};

struct ScannedChunks {
    // False when the scan gave up (too many words, a failure): then nothing here is to be used.
    bool usable = false;
    // The chunks read that have a word kept or were read short, sorted by address. A chunk of
    // an arena the walk called in use and that is not here was read whole and holds no word
    // that could point to a chunk.
    std::vector<ScannedChunk> chunks;
    std::vector<uint64_t> values;
    std::vector<uint32_t> offsets;  // from the chunk's user memory
    // The writable memory (sorted, merged [start, end) pairs) words were kept for pointing into.
    std::vector<std::pair<uint64_t, uint64_t>> kept_ranges;

    // Whether every one of `heap` (sorted) lies in kept_ranges: only then does a chunk's
    // list hold every word that points into one of them.
    bool covers(std::span<const HeapChunk> heap) const;

    // Finds the records of chunks asked for in increasing address order.
    class Cursor {
    public:
        Cursor(const ScannedChunks* scanned, uint64_t from);
        const ScannedChunk* find(uint64_t address);

    private:
        const ScannedChunks* scanned_;
        size_t next_ = 0;
    };
};

class ChunkPointerScan final : public HeapWalkObserver {
public:
    static constexpr uint64_t kMostWords = 8'000'000;
    static constexpr uint64_t kMostBytes = 16ull << 30;  // read by each reader

    explicit ChunkPointerScan(const Snapshot& snapshot, uint64_t max_words = kMostWords,
                              uint64_t max_bytes = kMostBytes);
    ~ChunkPointerScan() override;  // stops the thread, if finish() did not
    ChunkPointerScan(const ChunkPointerScan&) = delete;
    ChunkPointerScan& operator=(const ChunkPointerScan&) = delete;

    // From the walk's thread: chunks found (copied; read later on this scan's thread).
    void walked(std::span<const HeapChunk> chunks) override;
    // Once the walk is over: reads the chunks the thread has not come to yet, alongside it
    // (the thread lags behind a fast walk), waits for it; what was kept. Once.
    ScannedChunks finish();

    // What one reader (the thread, or finish()'s caller) kept: records, their words, and the
    // runs of records in address order (a batch each).
    struct Share {
        std::vector<ScannedChunk> chunks;
        std::vector<uint64_t> values;
        std::vector<uint32_t> offsets;
        std::vector<std::pair<size_t, size_t>> runs;  // [begin, end) of chunks
        uint64_t bytes_read = 0;
    };

private:
    void run();
    // Reads the batches told of until none is left (or, for the thread, until told to stop).
    void read_batches(Share& share, bool wait_for_more);
    // Reads `batch` into `share`; false when the share has more than max_words words or has
    // read more than max_bytes.
    bool read_batch(const std::vector<HeapChunk>& batch, ForwardScan& scan,
                    std::vector<uint8_t>& buffer, Share& share) const;
    // Keeps the words of `bytes` (read at `offset` into a chunk's user memory) that point into
    // kept_ranges_.
    void keep_pointer_like(std::span<const uint8_t> bytes, uint32_t offset, Share& share) const;
    bool in_kept_range(uint64_t word) const;

    const Snapshot& snapshot_;
    uint64_t max_words_;
    uint64_t max_bytes_;
    std::vector<std::pair<uint64_t, uint64_t>> kept_ranges_;
    uint64_t lowest_ = 0, highest_ = 0;  // of kept_ranges_
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::vector<HeapChunk>> pending_;  // told of, not yet read
    bool done_ = false;                           // no more chunks will be told of
    bool given_up_ = false;  // too many words or a failure: the rest is not read
    Share thread_share_;     // the thread's until finish() joins it
    std::thread thread_;
};

}  // namespace dumpscope
