// stream_dump_memory: a reader thread copies target memory into a small ring of buffers while
// the calling thread hands full buffers to the writer, so reading the target
// (process_vm_readv) and writing the file overlap instead of taking turns.
#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "output/write_context.h"

namespace dumpscope {

namespace {

constexpr uint64_t kChunk = 2u << 20;  // process_vm_readv is fastest at 1-2 MiB per call
constexpr size_t kBuffers = 4;         // in flight between the reader and the writer

struct Chunk {
    size_t range = 0;
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
};

class ChunkQueue {
public:
    void push(Chunk chunk) {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return full_.size() < kBuffers || stopped_; });
        if (stopped_) return;
        full_.push_back(std::move(chunk));
        ready_.notify_one();
    }
    // False when the producer is done and everything was taken.
    bool pop(Chunk& out) {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !full_.empty() || finished_ || stopped_; });
        if (full_.empty() || stopped_) return false;
        out = std::move(full_.front());
        full_.pop_front();
        space_.notify_one();
        return true;
    }
    void finish(Status status) {
        std::lock_guard lock(mutex_);
        finished_ = true;
        status_ = std::move(status);
        ready_.notify_all();
    }
    void stop() {  // the consumer gives up: unblock the producer
        std::lock_guard lock(mutex_);
        stopped_ = true;
        space_.notify_all();
        ready_.notify_all();
    }
    bool stopped() {
        std::lock_guard lock(mutex_);
        return stopped_;
    }
    // Buffers go back to the reader, so no chunk pays for fresh pages (page faults + zeroing).
    void recycle(std::vector<uint8_t> buffer) {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(buffer));
    }
    std::vector<uint8_t> take_buffer(size_t size) {
        std::vector<uint8_t> buffer;
        {
            std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                buffer = std::move(free_.back());
                free_.pop_back();
            }
        }
        buffer.resize(size);
        return buffer;
    }
    Status status() {
        std::lock_guard lock(mutex_);
        return status_;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::deque<Chunk> full_;
    std::vector<std::vector<uint8_t>> free_;
    bool finished_ = false;
    bool stopped_ = false;
    Status status_;
};

}  // namespace

Result<WriteRecord> stream_dump_memory(
    const Snapshot& snapshot, const DumpContent& content, const WriteContext& ctx,
    const std::function<Status(size_t, uint64_t, std::span<const uint8_t>)>& sink) {
    ChunkQueue queue;
    std::vector<uint64_t> unreadable(content.memory.size(), 0);
    std::thread reader([&] {
        for (size_t i = 0; i < content.memory.size(); ++i) {
            const MemoryRange& range = content.memory[i];
            for (uint64_t off = 0; off < range.size; off += kChunk) {
                if (queue.stopped()) return;
                Chunk chunk{i, off, queue.take_buffer(std::min(kChunk, range.size - off))};
                Status read = read_dump_memory(snapshot, content, range.start + off, chunk.bytes,
                                               unreadable[i]);
                if (!read.ok()) {
                    queue.finish(read);
                    return;
                }
                queue.push(std::move(chunk));
            }
        }
        queue.finish({});
    });

    const uint64_t total = content.memory_bytes();
    uint64_t written = 0;
    Status result;
    Chunk chunk;
    while (queue.pop(chunk)) {
        if (ctx.cancelled && ctx.cancelled()) {
            result = Error{"cancelled by the callback (CancelCallback); no dump written"};
            break;
        }
        result = sink(chunk.range, chunk.offset, chunk.bytes);
        if (!result.ok()) break;
        written += chunk.bytes.size();
        if (ctx.progress) ctx.progress(written, total);
        queue.recycle(std::move(chunk.bytes));
    }
    queue.stop();
    reader.join();
    if (!result.ok()) return result.error();
    DS_TRY(queue.status());

    WriteRecord record;
    for (size_t i = 0; i < content.memory.size(); ++i) {
        if (unreadable[i] == 0) continue;
        const MemoryRange& range = content.memory[i];
        record.notes.push_back(
            fmt::format("{:#x}-{:#x}: {} bytes could not be read and are zero in the dump",
                        range.start, range.end(), unreadable[i]));
    }
    return record;
}

}  // namespace dumpscope
