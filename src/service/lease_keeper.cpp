#include "service/lease_keeper.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace dumpscope::service {

void LeaseKeeper::start() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void LeaseKeeper::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    std::lock_guard join(join_mutex_);
    if (thread_.joinable()) thread_.join();
}

bool LeaseKeeper::keep_leases() {
    auto renewed = store_.renew_leases();
    if (!renewed.ok()) {
        fmt::print(stderr, "dumpscope server: leases: {}\n", renewed.error().message);
        return false;
    }
    auto requeued = store_.requeue_expired();
    if (!requeued.ok()) {
        fmt::print(stderr, "dumpscope server: leases: {}\n", requeued.error().message);
        return false;
    }
    if (*requeued > 0) {
        fmt::print(stderr,
                   "dumpscope server: {} crash(es) whose lease expired (their server stopped) "
                   "queued again\n",
                   *requeued);
        for (int64_t i = 0; i < *requeued; ++i) workers_.notify();
    }
    return true;
}

void LeaseKeeper::run() {
    using std::chrono::milliseconds;
    const milliseconds renew_every(std::max<int64_t>(store_.lease_ms() / 6, 100));
    const milliseconds tick = std::min(renew_every, milliseconds(1000));
    auto next_renewal = std::chrono::steady_clock::now();
    bool was_available = true;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, tick, [this] { return stopping_; })) return;
        }
        if (!store_.available()) {
            // Reconnects if it can: the next renewal is then due at once.
            if (!store_.ping().ok()) {
                was_available = false;
                continue;
            }
        }
        if (!was_available) {
            fmt::print(stderr, "dumpscope server: the database is reachable again\n");
            was_available = true;
            next_renewal = std::chrono::steady_clock::now();
            workers_.notify();
        }
        if (std::chrono::steady_clock::now() < next_renewal) continue;
        if (keep_leases()) {
            next_renewal = std::chrono::steady_clock::now() + renew_every;
        } else {
            was_available = store_.available();
        }
    }
}

}  // namespace dumpscope::service
