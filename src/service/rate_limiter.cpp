#include "service/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace dumpscope::service {

namespace {

constexpr size_t kMaxClients = 10000;

}  // namespace

int64_t RateLimiter::admit(const std::string& client, Clock::time_point now) {
    if (per_minute_ == 0) return 0;
    const double capacity = static_cast<double>(per_minute_);
    const double per_second = capacity / 60.0;
    std::lock_guard lock(mutex_);
    if (buckets_.size() >= kMaxClients && buckets_.count(client) == 0) {
        // Drop the buckets that have refilled: those clients lose nothing.
        std::erase_if(buckets_, [&](const auto& entry) {
            const double idle = std::chrono::duration<double>(now - entry.second.updated).count();
            return entry.second.tokens + idle * per_second >= capacity;
        });
    }
    auto [it, inserted] = buckets_.try_emplace(client, Bucket{capacity, now});
    Bucket& bucket = it->second;
    if (!inserted && now > bucket.updated) {
        const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
        bucket.tokens = std::min(capacity, bucket.tokens + elapsed * per_second);
        bucket.updated = now;
    }
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return 0;
    }
    return std::max<int64_t>(1,
                             static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / per_second)));
}

}  // namespace dumpscope::service
