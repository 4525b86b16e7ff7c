#include "live/syscall_injector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "live/injection_code.h"
#include "live/stop_waiter.h"
#include "live/test_stall.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kStepTimeout{10000};
constexpr int kSyscallStopSignal = SIGTRAP | 0x80;  // PTRACE_O_TRACESYSGOOD

static_assert(sizeof(user_regs_struct) == sizeof(X86GeneralRegisters));

struct Stop {
    enum class Kind { kExited, kTimeout, kSyscall, kEvent, kInterrupt, kGroup, kSignal };
    Kind kind = Kind::kExited;
    int signal = 0;  // kSignal, kGroup
    int event = 0;   // kEvent: PTRACE_EVENT_*
};

Stop classify(int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) return {};
    const int sig = WSTOPSIG(status);
    const int event = (status >> 16) & 0xff;
    if (sig == kSyscallStopSignal) return {Stop::Kind::kSyscall};
    if (event == PTRACE_EVENT_STOP) {
        return sig == SIGTRAP ? Stop{Stop::Kind::kInterrupt} : Stop{Stop::Kind::kGroup, sig};
    }
    if (event != 0) return {Stop::Kind::kEvent, 0, event};
    return {Stop::Kind::kSignal, sig};
}

Stop wait_stop(int32_t tid, Clock::time_point deadline) {
    StopWaiter waiter;
    int status = 0;
    const int got = waiter.wait(tid, status, deadline);
    if (got == tid) return classify(status);
    if (got == 0) return {Stop::Kind::kTimeout};
    return {};
}

Error ptrace_error(const char* what, int32_t tid, int err = errno) {
    return Error{fmt::format("{} of thread {} failed: {}", what, tid, std::strerror(err))};
}

Status get_regs(int32_t tid, X86GeneralRegisters& regs) {
    user_regs_struct raw{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &raw) != 0) return ptrace_error("GETREGS", tid);
    std::memcpy(&regs, &raw, sizeof regs);
    return {};
}

Status set_regs(int32_t tid, const X86GeneralRegisters& regs) {
    user_regs_struct raw{};
    std::memcpy(&raw, &regs, sizeof raw);
    if (::ptrace(PTRACE_SETREGS, tid, nullptr, &raw) != 0) return ptrace_error("SETREGS", tid);
    return {};
}

Status set_sigmask(int32_t tid, uint64_t mask) {
    if (::ptrace(PTRACE_SETSIGMASK, tid, sizeof mask, &mask) != 0) {
        return ptrace_error("SETSIGMASK", tid);
    }
    return {};
}

Status set_options(int32_t tid, long options) {
    if (::ptrace(PTRACE_SETOPTIONS, tid, nullptr, options) != 0) {
        return ptrace_error("SETOPTIONS", tid);
    }
    return {};
}

// The thread's state before the injection and the way back to it. While `at_rest` is true the
// thread sits in a stop inside get_signal (the interrupt stop, or a signal-delivery stop), where
// the saved registers can be put back exactly: the kernel then restarts an interrupted system
// call as if nothing had happened.
class ThreadInjection {
public:
    // The site's bytes go through /proc/TID/mem (one pread/pwrite each way; a tracer may write
    // to read-only text there) or, where that cannot be opened, PTRACE_PEEKDATA/POKEDATA.
    ThreadInjection(int32_t tid, uint64_t site, long options_after)
        : tid_(tid),
          site_(site),
          options_after_(options_after),
          mem_(::open(("/proc/" + std::to_string(tid) + "/mem").c_str(), O_RDWR | O_CLOEXEC)) {}
    ThreadInjection(const ThreadInjection&) = delete;
    ThreadInjection& operator=(const ThreadInjection&) = delete;
    ~ThreadInjection() {
        if (at_rest_ && dirty_) (void)restore();
    }

    Status save() {
        DS_TRY(get_regs(tid_, regs_));
        if (::ptrace(PTRACE_GETSIGMASK, tid_, sizeof mask_, &mask_) != 0) {
            return ptrace_error("GETSIGMASK", tid_);
        }
        original_.resize(kInjectionCodeSize);
        return transfer(original_.data(), false);
    }

    const X86GeneralRegisters& regs() const { return regs_; }
    uint64_t mask() const { return mask_; }

    Status write_code(const std::vector<uint8_t>& code) {
        std::vector<uint8_t> bytes = original_;
        std::copy(code.begin(), code.begin() + std::min(code.size(), bytes.size()), bytes.begin());
        dirty_ = true;
        return transfer(bytes.data(), true);
    }

    void set_at_rest(bool at_rest) { at_rest_ = at_rest; }

    // Registers and signal mask first (the code at the site can still bring the thread back
    // while they are not), then the options, then the site's bytes.
    Status restore() {
        DS_TRY(set_sigmask(tid_, mask_));
        DS_TRY(set_regs(tid_, regs_));
        DS_TRY(set_options(tid_, options_after_));
        DS_TRY(transfer(original_.data(), true));
        dirty_ = false;
        return {};
    }

private:
    // kInjectionCodeSize bytes between `buffer` and the site.
    Status transfer(uint8_t* buffer, bool write) {
        const off_t at = static_cast<off_t>(site_);
        if (mem_.valid()) {
            const ssize_t n = write ? ::pwrite(mem_.get(), buffer, kInjectionCodeSize, at)
                                    : ::pread(mem_.get(), buffer, kInjectionCodeSize, at);
            if (n == static_cast<ssize_t>(kInjectionCodeSize)) return {};
        }
        for (size_t off = 0; off < kInjectionCodeSize; off += 8) {
            uint64_t word = 0;
            if (write) {
                std::memcpy(&word, buffer + off, 8);
                if (::ptrace(PTRACE_POKEDATA, tid_, site_ + off, word) != 0) {
                    return ptrace_error("POKEDATA", tid_);
                }
                continue;
            }
            errno = 0;
            word = static_cast<uint64_t>(::ptrace(PTRACE_PEEKDATA, tid_, site_ + off, nullptr));
            if (errno != 0) return ptrace_error("PEEKDATA", tid_);
            std::memcpy(buffer + off, &word, 8);
        }
        return {};
    }

    int32_t tid_;
    uint64_t site_;
    long options_after_;
    UniqueFd mem_;
    X86GeneralRegisters regs_{};
    uint64_t mask_ = 0;
    std::vector<uint8_t> original_;
    bool at_rest_ = true;
    bool dirty_ = false;
};

// The injection proper: from the first resume to the interrupt stop after the call.
class InjectionRun {
public:
    InjectionRun(int32_t pid, int32_t tid, const SyscallRequest& request,
                 const ChildCallback& on_child)
        : pid_(pid), tid_(tid), request_(request), on_child_(on_child) {}

    // Runs the thread until its next stop that is not a SIGSTOP (held back for later).
    Stop next(__ptrace_request how, Clock::time_point deadline) {
        for (;;) {
            if (::ptrace(how, tid_, nullptr, nullptr) != 0) return {};
            Stop stop = wait_stop(tid_, deadline);
            if (stop.kind == Stop::Kind::kSignal && stop.signal == SIGSTOP) {
                held_sigstop_ = true;
                continue;
            }
            if (stop.kind == Stop::Kind::kGroup) continue;
            return stop;
        }
    }

    Status describe(const Stop& stop, const char* step) const {
        switch (stop.kind) {
            case Stop::Kind::kExited:
                return Error{fmt::format("thread {} exited {}", tid_, step)};
            case Stop::Kind::kTimeout:
                return Error{fmt::format("thread {} did not stop {} within {} ms", tid_, step,
                                         request_.timeout.count())};
            case Stop::Kind::kSignal:
                return Error{fmt::format("thread {} got signal {} {}", tid_, stop.signal, step)};
            default:
                return Error{fmt::format("thread {}: unexpected stop {}", tid_, step)};
        }
    }

    // The call: from the syscall-entry stop of the harmless read to the syscall-exit stop.
    Result<SyscallOutcome> run_call(ThreadInjection& thread) {
        const auto step_deadline = [] { return Clock::now() + kStepTimeout; };
        thread.set_at_rest(false);
        Stop stop = next(PTRACE_SYSCALL, step_deadline());
        if (stop.kind != Stop::Kind::kSyscall) return failed(thread, stop, "before the call");
        X86GeneralRegisters regs{};
        DS_TRY(get_regs(tid_, regs));
        regs.orig_rax = static_cast<uint64_t>(request_.number);
        regs.rdi = request_.args[0];
        regs.rsi = request_.args[1];
        regs.rdx = request_.args[2];
        regs.r10 = request_.args[3];
        regs.r8 = request_.args[4];
        regs.r9 = request_.args[5];
        DS_TRY(set_regs(tid_, regs));
        test_stall_point("syscall-entry");

        SyscallOutcome outcome;
        const auto call_deadline = Clock::now() + request_.timeout;
        for (stop = next(PTRACE_SYSCALL, call_deadline); stop.kind == Stop::Kind::kEvent;
             stop = next(PTRACE_SYSCALL, call_deadline)) {
            unsigned long message = 0;
            if (::ptrace(PTRACE_GETEVENTMSG, tid_, nullptr, &message) == 0 && outcome.child == 0 &&
                (stop.event == PTRACE_EVENT_CLONE || stop.event == PTRACE_EVENT_FORK ||
                 stop.event == PTRACE_EVENT_VFORK)) {
                outcome.child = static_cast<int32_t>(message);
                if (on_child_) on_child_(outcome.child);
            }
        }
        if (stop.kind != Stop::Kind::kSyscall) return failed(thread, stop, "during the call");
        DS_TRY(get_regs(tid_, regs));
        outcome.result = static_cast<int64_t>(regs.rax);
        test_stall_point("syscall-exit");

        // Back into a stop inside get_signal before the thread reaches user mode.
        if (::ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) {
            return ptrace_error("INTERRUPT", tid_);
        }
        stop = next(PTRACE_CONT, step_deadline());
        if (stop.kind != Stop::Kind::kInterrupt) return failed(thread, stop, "after the call");
        thread.set_at_rest(true);
        return outcome;
    }

    // A signal-delivery stop is inside get_signal too: restore there and drop the signal (the
    // code caused it). Other failures leave the thread to the code at the site.
    Error failed(ThreadInjection& thread, const Stop& stop, const char* step) {
        if (stop.kind == Stop::Kind::kSignal) thread.set_at_rest(true);
        return describe(stop, step).error();
    }

    void resend_held_signal() const {
        if (held_sigstop_) ::syscall(SYS_tgkill, pid_, tid_, SIGSTOP);
    }

private:
    int32_t pid_;
    int32_t tid_;
    const SyscallRequest& request_;
    const ChildCallback& on_child_;
    bool held_sigstop_ = false;
};

}  // namespace

bool in_interrupt_stop(int32_t tid) {
    siginfo_t info{};
    if (::ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) != 0) return false;
    return info.si_signo == SIGTRAP && info.si_code == (SIGTRAP | (PTRACE_EVENT_STOP << 8));
}

Result<SyscallOutcome> inject_syscall(int32_t pid, int32_t tid, uint64_t site,
                                      const SyscallRequest& request,
                                      const ChildCallback& on_child) {
    if (!in_interrupt_stop(tid)) {
        return Error{fmt::format("thread {} is not in a plain ptrace interrupt stop", tid)};
    }
    ThreadInjection thread(tid, site, request.ptrace_options);
    DS_TRY(thread.save());
    const InjectionCode code = build_injection_code(site, resume_registers(thread.regs()),
                                                    thread.mask(), request.fork_like);
    DS_TRY(thread.write_code(code.bytes));

    // Enter the code with read(-1, NULL, 0): harmless if dumpscope dies before the entry stop.
    X86GeneralRegisters entry = thread.regs();
    entry.rip = site;
    entry.rax = SYS_read;
    entry.orig_rax = ~uint64_t{0};
    entry.rdi = ~uint64_t{0};
    entry.rsi = 0;
    entry.rdx = 0;
    DS_TRY(set_regs(tid, entry));
    DS_TRY(set_sigmask(tid, ~uint64_t{0}));
    long options = PTRACE_O_TRACESYSGOOD;
    if (request.fork_like) options |= PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK;
    if (request.suspend_seccomp) options |= PTRACE_O_SUSPEND_SECCOMP;
    if (Status set = set_options(tid, options); !set.ok()) {
        return Error{request.suspend_seccomp
                         ? "cannot suspend seccomp for the injected call: " + set.error().message
                         : set.error().message};
    }
    test_stall_point("injected");

    InjectionRun run(pid, tid, request, on_child);
    auto outcome = run.run_call(thread);
    Status restored = Status::success();
    if (outcome.ok()) restored = thread.restore();
    run.resend_held_signal();
    if (!restored.ok()) return restored.error();
    return outcome;
}

}  // namespace dumpscope
