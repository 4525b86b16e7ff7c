// What each thread of a dump is waiting for, read from the system call it is blocked in (the
// saved registers: number and arguments) and the memory its arguments point to: a lock with its
// owner (glibc's layouts, no symbols needed), a semaphore, a condition variable, poll/epoll/select
// on which descriptors, a read on a pipe or socket, a sleep, a child, an uninterruptible kernel
// wait. The innermost functions of the thread's stack, when known, settle the futex words whose
// memory fits both a semaphore and a condition variable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace dumpscope::diagnosis {

// A lock word a futex wait is on, decoded from glibc's layout around it.
struct LockWait {
    uint64_t address = 0;  // the lock object (the mutex, the rwlock, the joined thread's tid word)
    uint64_t futex = 0;    // the word the thread sleeps on
    std::string kind;      // "mutex", "robust-mutex", "pi-mutex", "rwlock", "join"
    std::optional<int32_t> owner_tid;  // none: readers hold it, or the owner is not recorded
    uint32_t readers = 0;              // rwlock held for reading: how many readers
};

struct ThreadWait {
    int32_t tid = 0;
    // "lock", "semaphore", "condvar", "futex", "poll", "epoll", "select", "read", "write", "recv",
    // "send", "accept", "connect", "sleep", "waitpid", "signal", "disk", "running", "syscall",
    // "stopped"
    std::string what;
    std::string syscall;      // the system call's name, "" when not in one
    std::string description;  // "mutex 0x... owned by thread 1235", "read on fd 3 (pipe:[99])"
    std::optional<LockWait> lock;
    std::vector<int32_t> fds;          // the descriptors waited on
    std::optional<int64_t> child_pid;  // waitpid/waitid: which child (-1: any)
    bool memory_missing = false;       // the argument's memory is not in the dump
    // Futex waits: no timeout (nothing but a wake-up or a signal ends it), and whether the futex
    // is private to the process (FUTEX_PRIVATE_FLAG: no other process can wake it).
    uint64_t futex = 0;  // the futex word (its first argument)
    bool no_timeout = false;
    bool private_futex = false;
};

// The functions of a thread's innermost frames (inlined ones included), innermost first: what
// classify_wait takes from the stack. Empty when the stack is not known.
using WaitCallers = std::vector<std::string>;

// What the innermost frames say made a futex wait: a semaphore (sem_wait and its kin), a
// condition variable (pthread_cond_*), or nothing known.
enum class FutexUser { kUnknown, kSemaphore, kCondvar };
FutexUser futex_user(const WaitCallers& callers);

// Decodes a futex wait on `futex` (op and expected value from the system call's arguments).
// nullopt when the word's memory is not in the dump or matches no known lock layout.
std::optional<LockWait> decode_lock(const Snapshot& snapshot, uint64_t futex, uint32_t op,
                                    uint32_t expected);

// The glibc condition variable whose __g_signals[0] or [1] is the futex word (recognised by the
// waiter reference count in __wrefs), or nullopt.
std::optional<uint64_t> condvar_of(const Snapshot& snapshot, uint64_t futex);

// A glibc semaphore (sem_t: a 32-bit value, then the waiter count, then the private flag) whose
// value word is the futex, with no value left and waiters recorded; or nullopt.
struct SemaphoreState {
    uint32_t waiters = 0;
    bool process_shared = false;
};
std::optional<SemaphoreState> semaphore_at(const Snapshot& snapshot, uint64_t futex,
                                           uint32_t expected);

ThreadWait classify_wait(const Snapshot& snapshot, const Thread& thread,
                         const WaitCallers& callers = {});

// "fd 3 (pipe:[1234])", or "fd 3" when the dump holds no descriptor table.
std::string describe_fd(const Snapshot& snapshot, int32_t fd);

}  // namespace dumpscope::diagnosis
