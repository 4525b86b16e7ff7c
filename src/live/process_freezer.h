// Hang-mode freeze: PTRACE_SEIZE + PTRACE_INTERRUPT every thread (re-listing /proc/PID/task
// until no new thread appears), and the RAII guarantee that every thread is resumed and
// detached when this object goes away, whatever happened in between.
//
// ptrace ties a tracee to the tracer THREAD: create, use (snapshot_live_process) and destroy a
// freezer on one thread. If dumpscope dies, the kernel detaches and resumes every thread (no
// SIGSTOP is ever sent, so nothing is left stopped).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"

namespace dumpscope {

class ProcessFreezer {
public:
    static constexpr std::chrono::milliseconds kDefaultStopTimeout{10000};

    // Errors: no such process; "already traced by PID (comm)"; permission denied (with a hint
    // about CAP_SYS_PTRACE / yama); the process exited while we attached; a thread that did not
    // stop within stop_timeout (uninterruptible sleep). On error every thread already stopped
    // is resumed before this returns.
    // Threads in `leave_running` are neither stopped nor listed in tids() (the library's
    // callback thread, which answers the helper that freezes its own process).
    static Result<ProcessFreezer> freeze(
        int32_t pid, std::chrono::milliseconds stop_timeout = kDefaultStopTimeout,
        const std::vector<int32_t>& leave_running = {});

    ProcessFreezer(ProcessFreezer&& other) noexcept;
    ProcessFreezer& operator=(ProcessFreezer&&) = delete;
    ProcessFreezer(const ProcessFreezer&) = delete;
    ~ProcessFreezer();  // thaw()

    // Resumes and detaches every thread (re-injecting a signal a thread's stop intercepted).
    // Idempotent. Threads that died meanwhile are reaped and skipped.
    void thaw();

    int32_t pid() const { return pid_; }
    const std::vector<int32_t>& tids() const { return tids_; }  // stopped threads, main first
    // Each thread's state letter from /proc/PID/task/TID/stat read just before it was
    // interrupted (R, S, D, ...), parallel to tids(): after the stop they all read 't'.
    const std::vector<char>& states_before() const { return states_before_; }
    bool frozen() const { return frozen_; }
    // Time since the first thread was stopped (or total stopped time after thaw()).
    double paused_ms() const;

private:
    explicit ProcessFreezer(int32_t pid);

    // The threads seen so far: per thread id, its start time (/proc/PID/task/TID/stat), or
    // kHeld (seized by us) or kLeftRunning. A thread that was gone or dying when seen keeps its
    // start time: thread ids wrap around at pid_max, and a new thread given the same id later
    // has another start time.
    using SeenThreads = std::unordered_map<int32_t, uint64_t>;
    static constexpr uint64_t kLeftRunning = UINT64_MAX;
    static constexpr uint64_t kHeld = UINT64_MAX - 1;

    // Seizes, interrupts and waits for every thread in /proc/PID/task not seen before.
    // Sets `found_new` when the listing had threads not seen in earlier passes.
    Status attach_pass(SeenThreads& seen, std::chrono::milliseconds stop_timeout, bool& found_new);
    // Seizes and interrupts `tid`; `start_time` is set to its start time, when it can be read.
    Status seize_one(int32_t tid, std::vector<int32_t>& seized, std::vector<char>& states,
                     uint64_t& start_time);
    void add_stopped(int32_t tid, char state, int pending_signal);

    int32_t pid_ = 0;
    std::vector<int32_t> tids_;
    std::vector<char> states_before_;
    std::vector<int> pending_signals_;  // parallel to tids_: signal to re-inject at detach
    std::vector<int32_t> unstopped_;    // seized but never seen stopped (timeout): detach too
    bool frozen_ = false;               // fully attached and not thawed
    bool attached_ = false;             // something seized that thaw() must still release
    bool stopped_any_ = false;
    bool thawed_ = false;
    // The pause as the target may have felt it, counted generously: from the first
    // PTRACE_INTERRUPT sent (the thread may stop at once) to the last thread let go.
    std::optional<std::chrono::steady_clock::time_point> first_interrupt_at_;
    std::chrono::steady_clock::time_point frozen_at_;
    std::chrono::steady_clock::time_point thawed_at_;
};

}  // namespace dumpscope
