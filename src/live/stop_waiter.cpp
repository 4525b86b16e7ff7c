#include "live/stop_waiter.h"

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

namespace dumpscope {

namespace {

// A SIGCHLD meant for another thread, or lost to one that does not block it, costs at most this.
constexpr long kSafetyTickNs = 1000000;

}  // namespace

StopWaiter::StopWaiter() {
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &child, &previous_);
}

StopWaiter::~StopWaiter() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

int StopWaiter::wait(int32_t pid, int& status, std::chrono::steady_clock::time_point deadline) {
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    for (;;) {
        const int got = ::waitpid(pid, &status, __WALL | WNOHANG);
        if (got != 0 && !(got < 0 && errno == EINTR)) return got;
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return 0;
        const long left_ns =
            static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
        const timespec tick{0, std::min(left_ns, kSafetyTickNs)};
        ::sigtimedwait(&child, nullptr, &tick);
    }
}

}  // namespace dumpscope
