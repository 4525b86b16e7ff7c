// After a clone dump resumed its target: give the target's threads the CPUs before dumpscope's
// heavy reading starts, and measure how long they waited for one. A thread that was stopped
// feels the pause until it runs again, which on a busy machine is later than the resume that
// ends dumpscope's own count; the kernel counts that wait per thread (the second field of
// /proc/PID/task/TID/schedstat, time spent runnable on a run queue).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace dumpscope {

struct CpuWait {
    double longest_ms = 0;   // the longest run-queue wait of a watched thread since the resume
    int32_t tid = 0;         // whose
    size_t watched = 0;      // threads watched (the first kMaxWatched)
    bool timed_out = false;  // a runnable thread had not run within the limit: "at least"
};

class CpuHandover {
public:
    static constexpr size_t kMaxWatched = 256;

    // Right after the target's threads `tids` were resumed: where each stands (schedstat).
    static CpuHandover begin(int32_t pid, const std::vector<int32_t>& tids);

    // Sleeps in steps of 200 us until every watched thread that is runnable has run since
    // begin() (threads asleep need no CPU), for at most `limit`; then reports their waits.
    CpuWait wait_until_run(std::chrono::microseconds limit);

private:
    struct Watched {
        int32_t tid = 0;
        uint64_t run_delay_ns = 0;  // at begin()
        uint64_t slices = 0;        // times scheduled, at begin()
        bool known = false;         // its schedstat could be read
    };
    int32_t pid_ = 0;
    std::chrono::steady_clock::time_point began_;
    std::vector<Watched> threads_;
};

}  // namespace dumpscope
