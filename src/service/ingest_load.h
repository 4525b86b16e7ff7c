// How many uploads the server is storing right now (received, being synced and indexed), so that
// the analyses can wait while the uploads come faster than they are stored. On the 2-vCPU machine
// of bench/RESULTS.md anything else running beside 50 uploaders that never pause took a third of
// the ingest rate and doubled its p99 latency, even a SCHED_IDLE process that only spins (each
// wakeup of a server thread then has to preempt it); and an upload refused is lost, while an
// analysis that waits is only late. When uploads outrun the workers by that much the queue grows by
// hundreds a second either way.
#pragma once

#include <atomic>

namespace dumpscope::service {

class IngestLoad {
public:
    // Busy from `busy_at` uploads being stored; 0: never busy.
    explicit IngestLoad(int busy_at) : busy_at_(busy_at) {}
    IngestLoad(const IngestLoad&) = delete;
    IngestLoad& operator=(const IngestLoad&) = delete;

    // One upload being stored while this object lives.
    class Upload {
    public:
        explicit Upload(IngestLoad& load) : load_(&load) { load_->storing_.fetch_add(1); }
        Upload(const Upload&) = delete;
        Upload& operator=(const Upload&) = delete;
        ~Upload() { load_->storing_.fetch_sub(1); }

    private:
        IngestLoad* load_;
    };

    int storing() const { return storing_.load(std::memory_order_relaxed); }
    bool busy() const { return busy_at_ > 0 && storing() >= busy_at_; }
    int busy_at() const { return busy_at_; }
    // The default threshold: 4 uploads being stored per CPU, at least 8.
    static int default_busy_at();

private:
    const int busy_at_;
    std::atomic<int> storing_{0};
};

}  // namespace dumpscope::service
