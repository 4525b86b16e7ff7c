// The processing workers: N threads, each taking one queued crash at a time from the store
// (queued -> processing), processing it (process_dump.h) and storing the result (processed) or
// the error (failed). Woken when a crash is queued, and every few seconds in case another
// process queued one. An exception from the analysis fails that crash, not the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "analysis/symbol_locator.h"
#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/retention.h"

namespace dumpscope::service {

class WorkerPool {
public:
    // `retention` is enforced after each crash is processed (its signature is known then).
    WorkerPool(CrashStore& store, DumpStore& dumps, Retention& retention,
               analysis::SymbolOptions options)
        : store_(store), dumps_(dumps), retention_(retention), options_(std::move(options)) {}
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    ~WorkerPool() { stop(); }

    void start(unsigned count);
    // Wakes a worker: a crash was queued.
    void notify();
    // Lets each worker finish its current crash, then joins them.
    void stop();

private:
    void run();
    void process(const ClaimedJob& job);

    CrashStore& store_;
    DumpStore& dumps_;
    Retention& retention_;
    analysis::SymbolOptions options_;
    std::vector<std::thread> threads_;
    std::mutex join_mutex_;  // stop() may be called from two threads
    std::mutex mutex_;
    std::condition_variable wake_;
    uint64_t pending_notifications_ = 0;
    bool stopping_ = false;
};

}  // namespace dumpscope::service
