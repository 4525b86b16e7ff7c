// Remote collection's server-side state besides the database: the agent store, the resumable
// uploads, and the in-process wake-up of long polls (an agent's poll waits here until work is
// queued for it, a process-list request waits until an agent answers). The records themselves
// are in the database, so a poll also looks again every second: work queued by another server
// process sharing the database is seen within a second.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "service/agent_store.h"
#include "service/upload_store.h"

namespace dumpscope::service {

class AgentHub {
public:
    AgentHub(std::unique_ptr<AgentStore> store, UploadStore uploads)
        : store_(std::move(store)), uploads_(std::move(uploads)) {}

    AgentStore& store() { return *store_; }
    UploadStore& uploads() { return uploads_; }

    // A change any waiter may care about (work queued, an answer stored).
    void notify() {
        {
            std::lock_guard lock(mutex_);
            ++generation_;
        }
        changed_.notify_all();
    }
    uint64_t generation() {
        std::lock_guard lock(mutex_);
        return generation_;
    }
    // Until the generation moves past `seen`, `timeout` passes (at most a second: the database
    // is looked at again) or the server stops.
    void wait(uint64_t seen, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::min(timeout, std::chrono::milliseconds(1000)),
                          [&] { return generation_ != seen || stopping_; });
    }
    // Wakes every waiter for good: the server is stopping.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
    }
    bool stopping() {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

private:
    std::unique_ptr<AgentStore> store_;
    UploadStore uploads_;
    std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

}  // namespace dumpscope::service
