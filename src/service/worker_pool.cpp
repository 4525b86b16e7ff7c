#include "service/worker_pool.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <exception>

#include "service/process_dump.h"

namespace dumpscope::service {

void WorkerPool::start(unsigned count) {
    for (unsigned i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
}

void WorkerPool::notify() {
    {
        std::lock_guard lock(mutex_);
        ++pending_notifications_;
    }
    wake_.notify_one();
}

void WorkerPool::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    std::lock_guard join(join_mutex_);
    for (std::thread& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void WorkerPool::run() {
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        auto job = store_.claim_next();
        if (!job.ok()) fmt::print(stderr, "dumpscope server: {}\n", job.error().message);
        if (job.ok() && job->has_value()) {
            process(**job);
            continue;
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::seconds(5),
                       [this] { return stopping_ || pending_notifications_ > 0; });
        if (pending_notifications_ > 0) --pending_notifications_;
    }
}

void WorkerPool::process(const ClaimedJob& job) {
    Result<ProcessedCrash> result = Error{"not processed"};
    try {
        // A local file while it is analysed (a temporary copy for a remote store).
        auto local = dumps_.fetch(job.id);
        result = local.ok() ? process_dump(local->path(), options_)
                            : Result<ProcessedCrash>(local.error());
    } catch (const std::exception& e) {
        result = Error{fmt::format("internal error while analysing the dump: {}", e.what())};
    }
    const Result<bool> stored = result.ok() ? store_.finish_processed(job, *result)
                                            : store_.finish_failed(job, result.error().message);
    if (!stored.ok())
        fmt::print(stderr, "dumpscope server: crash {}: {}\n", job.id, stored.error().message);
    if (auto retained = retention_.enforce(); !retained.ok())
        fmt::print(stderr, "dumpscope server: retention: {}\n", retained.error().message);
}

}  // namespace dumpscope::service
