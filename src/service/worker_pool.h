// The processing workers: N threads, each taking one queued crash at a time from the store
// (queued -> processing), analysing it in a child process (analysis_process.h) and storing the
// result (processed) or the error (failed). An analysis killed by a signal or timed out puts the
// crash back in the queue, up to `attempts` times in a row; then it fails with why. Woken when a
// crash is queued, and every few seconds in case another process queued one. stop() kills the
// running analyses and queues their crashes again. While many uploads are being stored
// (ingest_load.h) a worker waits before it takes the next crash, for at most 30 s in a row.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "service/analysis_process.h"
#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/ingest_load.h"
#include "service/retention.h"

namespace dumpscope::service {

class WorkerPool {
public:
    // `retention` is enforced after each crash is processed (its signature is known then).
    // `attempts`: analyses of one crash killed or timed out in a row before it fails.
    // `ingest` (may be null): the uploads the analyses make way for.
    WorkerPool(CrashStore& store, DumpStore& dumps, Retention& retention, AnalysisRun analysis,
               int64_t attempts, const IngestLoad* ingest = nullptr);
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
    void wait_while_ingest_busy();
    void process(const ClaimedJob& job);

    CrashStore& store_;
    DumpStore& dumps_;
    Retention& retention_;
    AnalysisRun analysis_;
    int64_t attempts_;
    const IngestLoad* ingest_;
    UniqueFd stop_fd_;  // an eventfd, readable once stop() is called: ends running analyses
    std::function<void(const std::string&, const ProcessedCrash&)> on_processed_;
    std::vector<std::thread> threads_;
    std::mutex join_mutex_;  // stop() may be called from two threads
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable deferral_;  // only stop() wakes a worker that makes way for uploads
    uint64_t pending_notifications_ = 0;
    bool stopping_ = false;
};

}  // namespace dumpscope::service
