#include "live/thread_ptrace.h"

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace dumpscope {

namespace {

void sleep_for(std::chrono::microseconds duration) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
    timespec ts{static_cast<time_t>(seconds.count()),
                static_cast<long>((duration - seconds).count() * 1000)};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// One non-blocking wait. Returns the tid when a state change was collected, 0 if none yet,
// -1 with errno set on failure (ECHILD: not our tracee any more).
int poll_wait(int32_t tid, int& status) {
    for (;;) {
        int got = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (got >= 0 || errno != EINTR) return got;
    }
}

ThreadStop classify(int status) {
    ThreadStop stop;
    if (WIFEXITED(status) || WIFSIGNALED(status)) return stop;  // kGone
    stop.kind = ThreadStop::Kind::kStopped;
    if (WIFSTOPPED(status) && (status >> 16) == 0) {
        // A signal-delivery-stop: the signal is consumed unless we hand it back at detach.
        stop.pending_signal = WSTOPSIG(status);
    }
    // (status >> 16) == PTRACE_EVENT_STOP is our interrupt or a group-stop; the kernel puts a
    // group-stopped thread back into its stop by itself when we detach.
    return stop;
}

}  // namespace

int seize_thread(int32_t tid) {
    return ::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) == 0 ? 0 : errno;
}

int interrupt_thread(int32_t tid) {
    return ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0 ? 0 : errno;
}

ThreadStop wait_for_stop(int32_t tid, std::chrono::steady_clock::time_point deadline) {
    // Stops normally arrive within microseconds: spin briefly, then back off up to 2 ms.
    std::chrono::microseconds pause{0};
    for (;;) {
        int status = 0;
        int got = poll_wait(tid, status);
        if (got == tid) return classify(status);
        if (got < 0) return ThreadStop{};  // ECHILD: gone (reaped elsewhere) or never seized
        if (std::chrono::steady_clock::now() >= deadline) {
            return ThreadStop{ThreadStop::Kind::kTimeout, 0};
        }
        pause =
            std::clamp(pause * 2, std::chrono::microseconds{20}, std::chrono::microseconds{2000});
        sleep_for(pause);
    }
}

bool detach_thread(int32_t tid, int signal) {
    constexpr int kAttempts = 200;  // about 0.4 s for a dying thread to become a zombie
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        if (::ptrace(PTRACE_DETACH, tid, nullptr,
                     reinterpret_cast<void*>(static_cast<intptr_t>(signal))) == 0) {
            return true;
        }
        if (errno != ESRCH) return false;
        // ESRCH: dead (a zombie we must reap), dying, or not in a ptrace-stop.
        int status = 0;
        int got = poll_wait(tid, status);
        if (got < 0) return true;  // ECHILD: nothing of it is left for us
        if (got == tid && (WIFEXITED(status) || WIFSIGNALED(status))) return true;
        if (got == tid) {
            // It just reported a stop: the detach can now succeed; keep any signal it carries.
            ThreadStop stop = classify(status);
            if (stop.pending_signal != 0) signal = stop.pending_signal;
            continue;
        }
        sleep_for(std::chrono::microseconds{2000});
    }
    return false;
}

}  // namespace dumpscope
