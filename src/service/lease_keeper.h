// The thread that keeps the queue's leases (crash_store.h) and watches the database connection:
// every tick it renews the leases of the crashes this server is processing and puts the crashes
// whose lease expired (a dead server's) back to `queued`, waking the workers when it did. While
// the database is unreachable it tries to reconnect each tick instead, and wakes the workers when
// it is back. Renewal every lease/6 (10 s for the default 60 s lease); reconnection attempts at
// least every second.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "service/crash_store.h"
#include "service/worker_pool.h"

namespace dumpscope::service {

class LeaseKeeper {
public:
    LeaseKeeper(CrashStore& store, WorkerPool& workers) : store_(store), workers_(workers) {}
    LeaseKeeper(const LeaseKeeper&) = delete;
    LeaseKeeper& operator=(const LeaseKeeper&) = delete;
    ~LeaseKeeper() { stop(); }

    void start();
    void stop();

private:
    void run();
    // Renew, then requeue the expired; false if the database failed.
    bool keep_leases();

    CrashStore& store_;
    WorkerPool& workers_;
    std::thread thread_;
    std::mutex join_mutex_;  // stop() may be called from two threads
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
};

}  // namespace dumpscope::service
