// Upload rate limit per client address: a token bucket of `per_minute` uploads, refilled
// continuously (per_minute per 60 s). Idle clients' buckets are dropped once there are many, so
// memory stays bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dumpscope::service {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    // 0: no limit.
    explicit RateLimiter(uint64_t per_minute) : per_minute_(per_minute) {}

    // 0 if `client` may upload now (and takes one upload from its bucket); else the whole
    // seconds until it may.
    int64_t admit(const std::string& client, Clock::time_point now);

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };
    uint64_t per_minute_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace dumpscope::service
