// Makes one thread of another process run one system call for dumpscope, through ptrace, and
// puts the thread back exactly as it was.
//
// The thread must be one we seized (PTRACE_SEIZE) and hold in the stop that
// PTRACE_INTERRUPT causes (a PTRACE_EVENT_STOP that holds no signal), on the calling thread of
// dumpscope. The call runs from kInjectionCodeSize bytes of code written at `site` (see
// injection_site.h): the thread enters it doing a harmless read(-1, NULL, 0); at its
// syscall-entry stop dumpscope turns that into the wanted call, lets it run, and after its
// syscall-exit stop interrupts the thread again, then restores its registers, signal mask,
// ptrace options and the site's bytes. Every signal but SIGKILL/SIGSTOP is blocked in the
// thread meanwhile (nothing of the target runs); a SIGSTOP that arrives is held back and sent
// again afterwards.
//
// If dumpscope dies at any point, the kernel lets the thread go: before the entry stop it reads
// nothing from fd -1; after it, the code at the site restores the signal mask and registers
// and jumps back (see injection_code.h); a fork-like call's child exits at once.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>

#include "common/result.h"

namespace dumpscope {

struct SyscallRequest {
    int64_t number = -1;
    std::array<uint64_t, 6> args{};  // rdi, rsi, rdx, r10, r8, r9
    // clone/fork: the child is traced from its creation (PTRACE_O_TRACECLONE; it inherits our
    // seize and stops before its first instruction) and, untraced, exits at once.
    bool fork_like = false;
    // Run the call with the thread's seccomp filters suspended (PTRACE_O_SUSPEND_SECCOMP:
    // needs CAP_SYS_ADMIN and an unfiltered dumpscope).
    bool suspend_seccomp = false;
    std::chrono::milliseconds timeout{120000};  // for the call itself (fork of a huge process)
    // The ptrace options the thread had (there is no PTRACE_GETOPTIONS): set again afterwards.
    long ptrace_options = 0;
};

struct SyscallOutcome {
    int64_t result = 0;  // rax: -errno on failure
    int32_t child = 0;   // fork_like: the new process (pid in our namespace), 0 if none
};

// Called with the child of a fork-like call as soon as it exists, while the calling thread
// still waits in its PTRACE_EVENT_CLONE stop. The child is our tracee, stopping or stopped in a
// PTRACE_EVENT_STOP, with the options of the calling thread.
using ChildCallback = std::function<void(int32_t child)>;

// True when tid (our tracee) is in a PTRACE_EVENT_STOP from PTRACE_INTERRUPT: no signal held.
bool in_interrupt_stop(int32_t tid);

// Errors: the thread is not in an interrupt stop; ptrace failed (the thread died); the call
// did not finish within the timeout; a signal interrupted the code (it is dropped: it was
// caused by the code). On error the thread is restored when it could be brought back to an
// interrupt stop; otherwise the code stays at the site so that the thread can find its own way
// back.
Result<SyscallOutcome> inject_syscall(int32_t pid, int32_t tid, uint64_t site,
                                      const SyscallRequest& request,
                                      const ChildCallback& on_child = {});

}  // namespace dumpscope
