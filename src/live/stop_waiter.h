// Waiting for a tracee's next stop without sleeping through it. The kernel sends the tracer a
// SIGCHLD for every stop of a tracee; while a StopWaiter lives, SIGCHLD is blocked on the calling
// thread and collected with sigtimedwait, so a wait ends the moment the stop happens instead of
// at the next polling tick (on a busy machine a sleeping poller can lose the CPU for
// milliseconds, and the target is stopped all that time).
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>

namespace dumpscope {

class StopWaiter {
public:
    StopWaiter();   // blocks SIGCHLD on this thread
    ~StopWaiter();  // restores the thread's signal mask
    StopWaiter(const StopWaiter&) = delete;
    StopWaiter& operator=(const StopWaiter&) = delete;

    // waitpid(pid, __WALL | WNOHANG) until it reports a state change (returns pid, `status` set),
    // fails (-1, errno set; ECHILD: not our child or tracee) or the deadline passes (0).
    int wait(int32_t pid, int& status, std::chrono::steady_clock::time_point deadline);

private:
    sigset_t previous_{};
};

}  // namespace dumpscope
