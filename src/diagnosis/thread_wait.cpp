#include "diagnosis/thread_wait.h"

#include <fmt/format.h>
#include <sys/syscall.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "analysis/syscall_names.h"
#include "diagnosis/dump_memory.h"
#include "procfs/signal_names.h"

namespace dumpscope::diagnosis {

namespace {

// futex(2) operations a thread sleeps in (the command, without FUTEX_PRIVATE_FLAG 128 and
// FUTEX_CLOCK_REALTIME 256).
constexpr uint32_t kFutexWait = 0;
constexpr uint32_t kFutexLockPi = 6;
constexpr uint32_t kFutexWaitBitset = 9;
constexpr uint32_t kFutexWaitRequeuePi = 11;
constexpr uint32_t kFutexLockPi2 = 13;
constexpr uint32_t kFutexPrivateFlag = 128;
constexpr uint32_t kFutexCommandMask = ~(kFutexPrivateFlag | 256u);

// glibc's pthread_mutex_t (x86-64): __lock 0, __owner 8, __kind 16.
constexpr uint64_t kMutexOwner = 8;
constexpr uint64_t kMutexKind = 16;
constexpr uint32_t kMutexRobust = 16;
constexpr uint32_t kMutexPrioInherit = 32;
constexpr uint32_t kMutexKnownKindBits = 3 | 16 | 32 | 64 | 128 | 256 | 512;
constexpr uint32_t kFutexOwnerMask = 0x3fffffff;  // robust / PI lock word: the owner's tid

// glibc's pthread_rwlock_t (x86-64): __readers 0, __wrphase_futex 8, __writers_futex 12,
// __cur_writer 24, __shared 28, __flags 48.
constexpr uint64_t kRwlockWrphaseFutex = 8;
constexpr uint64_t kRwlockWritersFutex = 12;
constexpr uint64_t kRwlockCurWriter = 24;
constexpr uint64_t kRwlockShared = 28;
constexpr uint64_t kRwlockFlags = 48;
constexpr uint32_t kRwlockWritePhase = 1;
constexpr uint32_t kRwlockReaderShift = 3;

// glibc's pthread_cond_t (2.25 and later): __wrefs 36 (waiters << 3), __g_signals[2] at 40.
constexpr uint64_t kCondWrefs = 36;
constexpr uint64_t kCondSignals = 40;

// glibc's sem_t (x86-64, 64-bit atomics): the value in the low 32 bits of `data` (the futex
// word), the waiter count in its high 32 bits (+4), then `private` (+8): 0 for a semaphore of
// one process, FUTEX_PRIVATE_FLAG (128) for a shared one (glibc's FUTEX_SHARED).
constexpr uint64_t kSemWaiters = 4;
constexpr uint64_t kSemPrivate = 8;
constexpr uint32_t kSemMaxWaiters = 1u << 20;

// Functions whose futex waits are a semaphore's or a condition variable's (glibc 2.34 and later;
// the internal names come with libc's debug symbols, the exported ones without).
constexpr std::array<std::string_view, 8> kSemaphoreFunctions = {
    "sem_wait",   "sem_timedwait",         "sem_clockwait",       "__new_sem_wait",
    "__sem_wait", "__new_sem_wait_slow64", "__new_sem_wait_slow", "do_futex_wait"};
constexpr std::array<std::string_view, 3> kCondvarPrefixes = {"pthread_cond_", "__pthread_cond_",
                                                              "___pthread_cond_"};
constexpr size_t kCallerFramesLooked = 10;  // names, inlined ones included

// CPython's lock acquire (PyThread_acquire_lock, _timed): a sem_t on Linux (CPython 3.11, Debian
// 12's), its name exported even when libc's internal ones (the tail-called sem_wait slow path) are
// not known.
bool is_cpython_lock_acquire(const std::string& function) {
    return function.rfind("PyThread_acquire_lock", 0) == 0;
}

// Caps on what one system call argument may make us read (the dump is untrusted).
constexpr uint64_t kMaxPollFds = 64;
constexpr uint64_t kMaxSelectFds = 1024;

bool is_tid(const Snapshot& snapshot, int64_t value) {
    return value > 0 && value <= 0x3fffffff && thread_by_tid(snapshot, static_cast<int32_t>(value));
}

std::optional<LockWait> decode_mutex(const Snapshot& snapshot, uint64_t futex, uint32_t op) {
    auto word = read_u32(snapshot, futex);
    auto owner = read_u32(snapshot, futex + kMutexOwner);
    auto kind = read_u32(snapshot, futex + kMutexKind);
    if (!word || !owner || !kind || *word == 0) return std::nullopt;
    if ((*kind & ~kMutexKnownKindBits) != 0) return std::nullopt;
    LockWait lock;
    lock.address = futex;
    lock.futex = futex;
    const bool pi = (*kind & kMutexPrioInherit) != 0 || op == kFutexLockPi || op == kFutexLockPi2;
    if (pi || (*kind & kMutexRobust) != 0) {
        lock.kind = pi ? "pi-mutex" : "robust-mutex";
        const uint32_t from_word = *word & kFutexOwnerMask;
        if (from_word != 0) lock.owner_tid = static_cast<int32_t>(from_word);
        return lock;
    }
    // A normal mutex: the lock word is 1 (locked) or 2 (locked, with waiters); __owner is the
    // holder's tid (0 with lock elision, or just after an unlock).
    if (*word > 2 || *owner == 0 || *owner > kFutexOwnerMask) return std::nullopt;
    lock.kind = "mutex";
    lock.owner_tid = static_cast<int32_t>(*owner);
    return lock;
}

std::optional<LockWait> decode_rwlock(const Snapshot& snapshot, uint64_t futex, uint64_t offset,
                                      bool allow_read_phase) {
    const uint64_t base = futex - offset;
    auto readers = read_u32(snapshot, base);
    auto writer = read_u32(snapshot, base + kRwlockCurWriter);
    auto shared = read_u32(snapshot, base + kRwlockShared);
    auto flags = read_u32(snapshot, base + kRwlockFlags);
    if (!readers || !writer || !shared || !flags) return std::nullopt;
    if (*flags > 2 || (*shared != 0 && *shared != 128)) return std::nullopt;
    LockWait lock;
    lock.address = base;
    lock.futex = futex;
    lock.kind = "rwlock";
    const bool write_phase = (*readers & kRwlockWritePhase) != 0;
    if (offset == kRwlockWritersFutex || write_phase) {
        // Held by a writer: its tid is __cur_writer.
        if (!is_tid(snapshot, *writer)) return std::nullopt;
        lock.owner_tid = static_cast<int32_t>(*writer);
        return lock;
    }
    // Read phase: readers hold it; they are only counted.
    if (!allow_read_phase) return std::nullopt;
    lock.readers = *readers >> kRwlockReaderShift;
    if (lock.readers == 0 || *writer != 0) return std::nullopt;
    return lock;
}

void add_fd(ThreadWait& wait, int64_t fd) {
    if (fd >= 0 && fd < (1 << 24)) wait.fds.push_back(static_cast<int32_t>(fd));
}

// An absolute time on clock `clock` (clock_nanosleep with TIMER_ABSTIME): a date for the wall
// clock, else seconds on the named clock (since boot, for the monotonic ones).
std::string clock_time(uint64_t clock, uint64_t sec, uint64_t nsec) {
    if (clock == CLOCK_REALTIME && sec <= 253402300799) {  // up to the year 9999
        const auto t = static_cast<time_t>(sec);
        struct tm utc {};
        char text[64];
        if (gmtime_r(&t, &utc) != nullptr &&
            strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc) != 0) {
            return fmt::format("{} UTC", text);
        }
    }
    const char* name = clock == CLOCK_REALTIME    ? "CLOCK_REALTIME"
                       : clock == CLOCK_MONOTONIC ? "CLOCK_MONOTONIC"
                       : clock == CLOCK_BOOTTIME  ? "CLOCK_BOOTTIME"
                                                  : nullptr;
    const std::string on = name != nullptr ? name : fmt::format("clock {}", clock);
    return fmt::format("{}.{:03} s on {}", sec, nsec / 1000000, on);
}

std::string fd_list(const Snapshot& snapshot, const std::vector<int32_t>& fds) {
    std::string out;
    for (int32_t fd : fds) out += (out.empty() ? "" : ", ") + describe_fd(snapshot, fd);
    return out;
}

std::string semaphore_description(const Snapshot& snapshot, uint64_t futex, uint32_t expected,
                                  const WaitCallers& callers) {
    const bool cpython = std::any_of(callers.begin(), callers.end(), is_cpython_lock_acquire);
    std::string text = fmt::format("semaphore {:#x}{}", futex, cpython ? " (a CPython lock)" : "");
    if (auto state = semaphore_at(snapshot, futex, expected)) {
        text += fmt::format(", value 0, {} waiter(s){}", state->waiters,
                            state->process_shared ? ", shared between processes" : "");
    }
    return text + ": a semaphore records no holder";
}

std::string lock_description(const LockWait& lock) {
    if (lock.kind == "join")
        return fmt::format("pthread_join: waits for thread {} to exit", lock.owner_tid.value_or(0));
    if (lock.owner_tid)
        return fmt::format("{} {:#x} held by thread {}", lock.kind, lock.address, *lock.owner_tid);
    if (lock.readers != 0)
        return fmt::format("{} {:#x} held by {} reader(s)", lock.kind, lock.address, lock.readers);
    return fmt::format("{} {:#x} (owner not recorded)", lock.kind, lock.address);
}

void classify_futex(const Snapshot& snapshot, const Thread& t, const WaitCallers& callers,
                    ThreadWait& wait) {
    const uint64_t futex = t.syscall.args[0];
    const uint32_t raw_op = static_cast<uint32_t>(t.syscall.args[1]);
    const uint32_t op = raw_op & kFutexCommandMask;
    const uint32_t expected = static_cast<uint32_t>(t.syscall.args[2]);
    if (op != kFutexWait && op != kFutexWaitBitset && op != kFutexLockPi && op != kFutexLockPi2 &&
        op != kFutexWaitRequeuePi) {
        wait.what = "futex";
        wait.description = fmt::format("futex operation {} on {:#x}", op, futex);
        return;
    }
    wait.futex = futex;
    wait.no_timeout = t.syscall.args[3] == 0;  // the timeout pointer of every wait above
    wait.private_futex = (raw_op & kFutexPrivateFlag) != 0;
    if (!read_u32(snapshot, futex)) {
        wait.what = "futex";
        wait.memory_missing = true;
        wait.description = fmt::format("futex wait on {:#x} (the word is not in this dump)", futex);
        return;
    }
    const FutexUser user = futex_user(callers);
    if (user == FutexUser::kSemaphore) {
        wait.what = "semaphore";
        wait.description = semaphore_description(snapshot, futex, expected, callers);
        return;
    }
    if (user != FutexUser::kCondvar) {
        if (auto lock = decode_lock(snapshot, futex, op, expected)) {
            wait.what = "lock";
            wait.description = lock_description(*lock);
            wait.lock = lock;
            return;
        }
    }
    const std::optional<uint64_t> cond = condvar_of(snapshot, futex);
    if (cond || user == FutexUser::kCondvar) {
        wait.what = "condvar";
        wait.description = cond ? fmt::format("condition variable {:#x}", *cond)
                                : fmt::format("condition variable (its futex word {:#x})", futex);
        return;
    }
    if (semaphore_at(snapshot, futex, expected)) {
        wait.what = "semaphore";
        wait.description = semaphore_description(snapshot, futex, expected, callers);
        return;
    }
    wait.what = "futex";
    wait.description = fmt::format("futex wait on {:#x} (value {})", futex, expected);
}

}  // namespace

std::string describe_fd(const Snapshot& snapshot, int32_t fd) {
    for (const FileDescriptor& d : snapshot.fds) {
        if (d.fd == fd) return fmt::format("fd {} ({})", fd, d.target);
    }
    return fmt::format("fd {}", fd);
}

std::optional<LockWait> decode_lock(const Snapshot& snapshot, uint64_t futex, uint32_t op,
                                    uint32_t expected) {
    if (auto mutex = decode_mutex(snapshot, futex, op)) return mutex;
    // pthread_join sleeps on the joined thread's tid word while it holds that tid.
    auto word = read_u32(snapshot, futex);
    if (word && *word == expected && is_tid(snapshot, *word)) {
        LockWait join;
        join.address = futex;
        join.futex = futex;
        join.kind = "join";
        join.owner_tid = static_cast<int32_t>(*word);
        return join;
    }
    if (auto writers = decode_rwlock(snapshot, futex, kRwlockWritersFutex, false)) return writers;
    if (auto phase = decode_rwlock(snapshot, futex, kRwlockWrphaseFutex, false)) return phase;
    // A writer waiting for readers names no owner: weaker evidence than a condition variable's.
    if (condvar_of(snapshot, futex)) return std::nullopt;
    return decode_rwlock(snapshot, futex, kRwlockWrphaseFutex, true);
}

FutexUser futex_user(const WaitCallers& callers) {
    for (size_t i = 0; i < callers.size() && i < kCallerFramesLooked; ++i) {
        const std::string& f = callers[i];
        if (std::find(kSemaphoreFunctions.begin(), kSemaphoreFunctions.end(), f) !=
                kSemaphoreFunctions.end() ||
            is_cpython_lock_acquire(f))
            return FutexUser::kSemaphore;
        for (std::string_view prefix : kCondvarPrefixes)
            if (f.rfind(prefix, 0) == 0) return FutexUser::kCondvar;
    }
    return FutexUser::kUnknown;
}

std::optional<SemaphoreState> semaphore_at(const Snapshot& snapshot, uint64_t futex,
                                           uint32_t expected) {
    auto value = read_u32(snapshot, futex);
    auto waiters = read_u32(snapshot, futex + kSemWaiters);
    auto flag = read_u32(snapshot, futex + kSemPrivate);
    if (!value || !waiters || !flag || *value != 0 || expected != 0) return std::nullopt;
    if (*waiters == 0 || *waiters >= kSemMaxWaiters) return std::nullopt;
    if (*flag != 0 && *flag != kFutexPrivateFlag) return std::nullopt;
    return SemaphoreState{*waiters, *flag == kFutexPrivateFlag};
}

std::optional<uint64_t> condvar_of(const Snapshot& snapshot, uint64_t futex) {
    for (uint64_t slot : {uint64_t{0}, uint64_t{4}}) {
        if (futex < kCondSignals + slot) continue;
        const uint64_t cond = futex - kCondSignals - slot;
        auto wrefs = read_u32(snapshot, cond + kCondWrefs);
        if (wrefs && (*wrefs >> 3) != 0 && (*wrefs >> 3) < (1u << 20)) return cond;
    }
    return std::nullopt;
}

ThreadWait classify_wait(const Snapshot& snapshot, const Thread& t, const WaitCallers& callers) {
    ThreadWait wait;
    wait.tid = t.tid;
    const SyscallState& call = t.syscall;
    if (!call.in_syscall || call.number < 0) {
        if (t.state == 'D') {
            wait.what = "disk";
            wait.description = "uninterruptible kernel wait (D state), not in a system call";
        } else if (t.state == 'T' || t.state == 't') {
            wait.what = "stopped";
            wait.description = "stopped";
        } else {
            wait.what = "running";
            wait.description = "running user code";
        }
        return wait;
    }
    wait.syscall = analysis::syscall_name(call.number);
    const auto& a = call.args;
    switch (call.number) {
        case SYS_futex:
            classify_futex(snapshot, t, callers, wait);
            break;
        case SYS_poll:
        case SYS_ppoll: {
            wait.what = "poll";
            const uint64_t count = std::min<uint64_t>(a[1], kMaxPollFds);
            for (uint64_t i = 0; i < count; ++i) {
                auto fd = read_u32(snapshot, a[0] + 8 * i);  // struct pollfd { int fd; ... }
                if (!fd) {
                    wait.memory_missing = true;
                    break;
                }
                add_fd(wait, static_cast<int32_t>(*fd));
            }
            wait.description = fmt::format("{} on {} descriptor(s): {}", wait.syscall, a[1],
                                           fd_list(snapshot, wait.fds));
            break;
        }
        case SYS_select:
        case SYS_pselect6: {
            wait.what = "select";
            const uint64_t nfds = std::min<uint64_t>(a[0], kMaxSelectFds);
            for (int set = 1; set <= 3; ++set) {
                if (a[set] == 0) continue;
                for (uint64_t word = 0; word * 64 < nfds; ++word) {
                    auto bits = read_u64(snapshot, a[set] + 8 * word);
                    if (!bits) {
                        wait.memory_missing = true;
                        break;
                    }
                    for (uint64_t bit = 0; bit < 64 && word * 64 + bit < nfds; ++bit) {
                        const int32_t fd = static_cast<int32_t>(word * 64 + bit);
                        if (((*bits >> bit) & 1) != 0 &&
                            std::find(wait.fds.begin(), wait.fds.end(), fd) == wait.fds.end())
                            wait.fds.push_back(fd);
                    }
                }
            }
            wait.description = fmt::format("{} on {}", wait.syscall, fd_list(snapshot, wait.fds));
            break;
        }
        case SYS_epoll_wait:
        case SYS_epoll_pwait:
        case SYS_epoll_pwait2:
            wait.what = "epoll";
            add_fd(wait, static_cast<int32_t>(a[0]));
            wait.description = fmt::format("{} on {}", wait.syscall, fd_list(snapshot, wait.fds));
            break;
        case SYS_read:
        case SYS_readv:
        case SYS_pread64:
        case SYS_write:
        case SYS_writev:
        case SYS_pwrite64:
        case SYS_recvfrom:
        case SYS_recvmsg:
        case SYS_sendto:
        case SYS_sendmsg:
        case SYS_accept:
        case SYS_accept4:
        case SYS_connect: {
            const int64_t n = call.number;
            wait.what = n == SYS_read || n == SYS_readv || n == SYS_pread64      ? "read"
                        : n == SYS_write || n == SYS_writev || n == SYS_pwrite64 ? "write"
                        : n == SYS_recvfrom || n == SYS_recvmsg                  ? "recv"
                        : n == SYS_sendto || n == SYS_sendmsg                    ? "send"
                        : n == SYS_connect                                       ? "connect"
                                                                                 : "accept";
            add_fd(wait, static_cast<int32_t>(a[0]));
            wait.description = fmt::format("{} on {}", wait.syscall, fd_list(snapshot, wait.fds));
            break;
        }
        case SYS_nanosleep:
        case SYS_clock_nanosleep: {
            wait.what = "sleep";
            const uint64_t request = call.number == SYS_nanosleep ? a[0] : a[2];
            auto sec = read_u64(snapshot, request);
            auto nsec = read_u64(snapshot, request + 8);
            if (!sec || !nsec || *nsec >= 1000000000) {
                wait.description = wait.syscall;
            } else if (call.number == SYS_clock_nanosleep && (a[1] & TIMER_ABSTIME) != 0) {
                // A deadline on the clock (Python's time.sleep, for one), not a duration.
                wait.description =
                    fmt::format("{} until {}", wait.syscall, clock_time(a[0], *sec, *nsec));
            } else {
                wait.description =
                    fmt::format("{} for {}.{:03} s", wait.syscall, *sec, *nsec / 1000000);
            }
            break;
        }
        case SYS_wait4:
        case SYS_waitid: {
            wait.what = "waitpid";
            const int64_t pid = call.number == SYS_wait4 ? static_cast<int32_t>(a[0])
                                : a[0] == 0 /* P_ALL */  ? -1
                                                         : static_cast<int32_t>(a[1]);
            wait.child_pid = pid;
            wait.description = pid == -1 ? fmt::format("{} for any child", wait.syscall)
                                         : fmt::format("{} for child {}", wait.syscall, pid);
            break;
        }
        case SYS_pause:
        case SYS_rt_sigsuspend:
        case SYS_rt_sigtimedwait:
            wait.what = "signal";
            wait.description = fmt::format("{}: waits for a signal", wait.syscall);
            break;
        default:
            wait.what = "syscall";
            wait.description = fmt::format("in {}", wait.syscall);
            break;
    }
    if (t.state == 'D') {
        wait.description += " (uninterruptible: D state)";
        wait.what = "disk";
    }
    return wait;
}

}  // namespace dumpscope::diagnosis
