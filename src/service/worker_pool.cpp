#include "service/worker_pool.h"

#include <fmt/format.h>
#include <sys/eventfd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace dumpscope::service {

namespace {

constexpr auto kLongestDeferral = std::chrono::seconds(30);
constexpr auto kDeferralPoll = std::chrono::milliseconds(100);

}  // namespace

WorkerPool::WorkerPool(CrashStore& store, DumpStore& dumps, Retention& retention,
                       AnalysisRun analysis, int64_t attempts, const IngestLoad* ingest)
    : store_(store),
      dumps_(dumps),
      retention_(retention),
      analysis_(std::move(analysis)),
      attempts_(attempts),
      ingest_(ingest),
      stop_fd_(::eventfd(0, EFD_CLOEXEC)) {}

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
    if (stop_fd_.valid()) {
        const uint64_t one = 1;
        (void)!::write(stop_fd_.get(), &one, sizeof one);
    }
    wake_.notify_all();
    deferral_.notify_all();
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
        wait_while_ingest_busy();
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

// Polled: the uploads' own path stays free of locks and wakeups for the workers' sake.
void WorkerPool::wait_while_ingest_busy() {
    if (ingest_ == nullptr || !ingest_->busy()) return;
    const auto until = std::chrono::steady_clock::now() + kLongestDeferral;
    std::unique_lock lock(mutex_);
    while (!stopping_ && ingest_->busy() && std::chrono::steady_clock::now() < until)
        deferral_.wait_for(lock, kDeferralPoll);
}

void WorkerPool::process(const ClaimedJob& job) {
    // A local file while it is analysed (a temporary copy for a remote store).
    auto local = dumps_.fetch(job.id);
    AnalysisOutcome outcome;
    if (!local.ok()) {
        outcome = AnalysisOutcome{
            AnalysisOutcome::End::answered, {std::nullopt, local.error().message}, ""};
    } else if (!stop_fd_.valid()) {
        outcome.reason = "cannot start the analysis: no eventfd";
    } else {
        outcome = run_analysis_process(analysis_, local->path(), stop_fd_.get());
    }
    if (outcome.end != AnalysisOutcome::End::answered) {
        // Killed, timed out or interrupted: no answer to store, the crash goes back to the queue
        // (or, killed too often, fails with the last reason).
        const bool stopping = outcome.end == AnalysisOutcome::End::stopped;
        const std::string error = fmt::format(
            "{}; {} attempts were killed or timed out, not retried", outcome.reason, attempts_);
        const auto status = store_.end_without_answer(job, stopping ? 0 : attempts_, error);
        if (!status.ok())
            fmt::print(stderr, "dumpscope server: crash {}: {}\n", job.id, status.error().message);
        else if (!stopping && status->has_value())
            fmt::print(stderr, "dumpscope server: crash {}: {}: {}\n", job.id, outcome.reason,
                       **status == "failed" ? "failed" : "queued again");
        return;
    }
    const AnalysisAnswer& answer = outcome.answer;
    const Result<bool> stored = answer.crash ? store_.finish_processed(job, *answer.crash)
                                             : store_.finish_failed(job, answer.error);
    if (!stored.ok())
        fmt::print(stderr, "dumpscope server: crash {}: {}\n", job.id, stored.error().message);
    if (stored.ok() && *stored && answer.crash && on_processed_)
        on_processed_(job.id, *answer.crash);
    if (auto retained = retention_.enforce(); !retained.ok())
        fmt::print(stderr, "dumpscope server: retention: {}\n", retained.error().message);
}

}  // namespace dumpscope::service
