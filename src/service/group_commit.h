// Group commit: callers that arrive while a flush runs wait and are flushed together by the next
// one, which one of them runs on its own thread (no thread of its own, nothing runs when idle).
// Under 50 uploaders each upload's own directory fsync and index transaction queued the uploads
// behind each other; one fsync and one transaction for all that arrived meanwhile cost about what
// one did (directory_sync.h, crash_store.cpp).
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dumpscope::service {

template <typename Item>
class GroupCommit {
public:
    struct Entry {
        Item item;
        Status result;
        bool done = false;
    };

    // Adds `item` to the next batch and returns its result once a flush covered it. `flush` gets
    // the batch (std::vector<Entry*>&, in arrival order) and sets each entry's result; it runs on
    // the calling thread, without the group's lock, never two at once. If it throws, the
    // exception reaches this caller and the batch's other callers get an error.
    template <typename Flush>
    Status submit(Item item, Flush&& flush) {
        Entry mine{std::move(item), {}, false};
        std::unique_lock lock(mutex_);
        queue_.push_back(&mine);
        while (!mine.done) {
            if (flushing_) {
                finished_.wait(lock);
                continue;
            }
            // Nothing flushes and ours is still queued: this thread flushes the queue for all.
            flushing_ = true;
            std::vector<Entry*> batch = std::exchange(queue_, {});
            lock.unlock();
            std::exception_ptr thrown;
            try {
                flush(batch);
            } catch (...) {
                // The others' results are errors, and the group goes on; this caller rethrows.
                thrown = std::current_exception();
                for (Entry* entry : batch)
                    entry->result = Error{"internal error while committing a group"};
            }
            lock.lock();
            for (Entry* entry : batch) entry->done = true;
            flushing_ = false;
            ++flushes_;
            finished_.notify_all();
            if (thrown) std::rethrow_exception(thrown);
        }
        return std::move(mine.result);
    }

    // Flushes run so far (fewer than the submits when they overlapped).
    uint64_t flushes() const {
        std::lock_guard lock(mutex_);
        return flushes_;
    }
    // Callers waiting for the next flush.
    size_t queued() const {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable finished_;
    std::vector<Entry*> queue_;
    bool flushing_ = false;
    uint64_t flushes_ = 0;
};

}  // namespace dumpscope::service
