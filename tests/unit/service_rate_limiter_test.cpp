// The upload rate limit: a bucket of N uploads per client, refilled at N per minute.
#include <gtest/gtest.h>

#include <chrono>

#include "service/rate_limiter.h"

namespace dumpscope::service {
namespace {

using std::chrono::seconds;

TEST(ServiceRateLimiter, BucketPerClientRefilledOverAMinute) {
    RateLimiter limiter(3);
    const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
    EXPECT_EQ(limiter.admit("a", t0), 0);
    EXPECT_EQ(limiter.admit("a", t0), 0);
    EXPECT_EQ(limiter.admit("a", t0), 0);
    EXPECT_EQ(limiter.admit("a", t0), 20);  // 3 per minute: one more every 20 s
    EXPECT_EQ(limiter.admit("b", t0), 0);   // another client has its own bucket
    EXPECT_EQ(limiter.admit("a", t0 + seconds(10)), 10);
    EXPECT_EQ(limiter.admit("a", t0 + seconds(20)), 0);
    EXPECT_EQ(limiter.admit("a", t0 + seconds(20)), 20);
    // Idle for long: back to a full bucket, never more.
    const auto later = t0 + std::chrono::hours(1);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit("a", later), 0);
    EXPECT_GT(limiter.admit("a", later), 0);
}

TEST(ServiceRateLimiter, ZeroMeansNoLimit) {
    RateLimiter limiter(0);
    const auto t0 = RateLimiter::Clock::now();
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.admit("a", t0), 0);
}

}  // namespace
}  // namespace dumpscope::service
