// The processing workers: N threads, each taking one queued crash at a time from the store
// (queued -> processing), processing it (process_dump.h) and storing the result (processed) or
// the error (failed). Woken when a crash is queued, and every few seconds in case another
// process queued one. An exception from the analysis fails that crash, not the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "analysis/symbol_locator.h"
#include "service/crash_store.h"
#include "service/dump_directory.h"
#include "service/retention.h"

namespace dumpscope::service {

class WorkerPool {
public:
    // `retention` is enforced after each crash is processed (its signature is known then).
    WorkerPool(CrashStore& store, const DumpDirectory& dumps, Retention& retention,
               analysis::SymbolOptions options)
        : store_(store), dumps_(dumps), retention_(retention), options_(std::move(options)) {}
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    ~WorkerPool() { stop(); }

    // Called from the worker after a crash's result is stored (not for a stale one); set before
    // start().
    void on_processed(std::function<void(const std::string&, const ProcessedCrash&)> hook) {
        on_processed_ = std::move(hook);
    }
    void start(unsigned count);
    // Wakes a worker: a crash was queued.
    void notify();
    // Lets each worker finish its current crash, then joins them.
    void stop();

private:
    void run();
    void process(const ClaimedJob& job);

    CrashStore& store_;
    const DumpDirectory& dumps_;
    Retention& retention_;
    analysis::SymbolOptions options_;
    std::function<void(const std::string&, const ProcessedCrash&)> on_processed_;
    std::vector<std::thread> threads_;
    std::mutex join_mutex_;  // stop() may be called from two threads
    std::mutex mutex_;
    std::condition_variable wake_;
    uint64_t pending_notifications_ = 0;
    bool stopping_ = false;
};

}  // namespace dumpscope::service
