// ptrace on one thread: seize + interrupt, wait for the stop it causes, detach (passing on a
// signal the stop intercepted). The process freezer strings these together.
#pragma once

#include <chrono>
#include <cstdint>

namespace dumpscope {

// PTRACE_SEIZE (no options). Returns 0 or the errno.
int seize_thread(int32_t tid);

// PTRACE_INTERRUPT. Returns 0 or the errno.
int interrupt_thread(int32_t tid);

struct ThreadStop {
    enum class Kind {
        kStopped,  // in a ptrace-stop; safe to read registers and detach
        kGone,     // exited (and reaped) before it stopped
        kTimeout,  // still running (e.g. uninterruptible sleep) when the deadline passed
    };
    Kind kind = Kind::kGone;
    // Signal the thread was about to receive when it stopped (a signal-delivery-stop came
    // before our interrupt): it must be passed on at detach, not swallowed. 0 if none.
    int pending_signal = 0;
};

// Waits for the stop of a seized and interrupted thread. Never blocks past `deadline`.
ThreadStop wait_for_stop(int32_t tid, std::chrono::steady_clock::time_point deadline);

// PTRACE_DETACH with `signal` (0 for none). A thread that died meanwhile is reaped (its zombie
// would otherwise wait for us). Returns false if the thread could not be released because it is
// alive but not in a ptrace-stop (it stays attached until it stops or we exit).
bool detach_thread(int32_t tid, int signal);

}  // namespace dumpscope
