// A process kept under PTRACE_SEIZE (every thread, new ones through PTRACE_O_TRACECLONE) while
// the monitor waits for signals, crashes and exits. Unlike the hang-mode freezer the threads
// run: the tracer only sees a thread when the kernel stops it for an event.
//
// Signals the monitor does not want must be passed on at once (every signal delivery stops the
// thread until the tracer lets it go); group-stops (SIGSTOP, SIGTSTP, ...) are kept with
// PTRACE_LISTEN; new threads, exec and our own interrupts are handled here.
//
// One-thread rule: create, use and destroy it on one thread (ptrace ties tracees to the tracer
// thread). The destructor releases every thread, delivering any signal still held; if
// dumpscope dies, the kernel detaches and resumes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "live/live_snapshot.h"

namespace dumpscope {

struct TraceEvent {
    enum class Kind {
        kSignal,       // a signal is about to be delivered to `tid`; it waits for resume()
        kExit,         // `tid` is exiting (PTRACE_EVENT_EXIT); it waits for resume()
        kProcessGone,  // the process has exited and been reaped
    };
    Kind kind = Kind::kProcessGone;
    int32_t tid = 0;
    int signo = 0;  // kSignal
    int status =
        -1;  // kExit: the wait status it exits with; kProcessGone: the leader's (-1: unknown)
};

class AllStopped;

class TracedProcess {
public:
    // Seizes every thread (listing /proc/PID/task until it is stable). Errors as the freezer's:
    // no such process, already traced by PID (comm), permission. trace_exit adds
    // PTRACE_O_TRACEEXIT.
    static Result<std::unique_ptr<TracedProcess>> attach(int32_t pid, bool trace_exit);
    // detach_all(). NOLINTNEXTLINE(bugprone-exception-escape): only bad_alloc (see the .cpp).
    ~TracedProcess();
    TracedProcess(const TracedProcess&) = delete;
    TracedProcess& operator=(const TracedProcess&) = delete;

    int32_t pid() const { return pid_; }
    size_t thread_count() const { return threads_.size(); }
    bool gone() const { return gone_; }
    long ptrace_options() const { return options_; }

    // Blocks until an event the monitor must decide about; nullopt when a signal interrupted
    // the wait (the monitor's tick or Ctrl-C).
    Result<std::optional<TraceEvent>> next_event();

    // Lets a thread stopped at a kSignal / kExit event go on, delivering `signo` (0: none).
    void resume(int32_t tid, int signo);

    // Stops every running thread (PTRACE_INTERRUPT). Threads that do not stop within `timeout`
    // (uninterruptible sleep) are left out and named in AllStopped::notes.
    AllStopped stop_all(std::chrono::milliseconds timeout);

    // Releases every thread (others first, then the main thread, then `last_tid`), delivering
    // the signal of any kSignal stop not yet resumed. Afterwards nothing is traced. Idempotent.
    void detach_all(int32_t last_tid = 0);

private:
    friend class AllStopped;
    struct ThreadState {
        bool stopped = false;           // in a ptrace-stop we know of
        bool listening = false;         // in group-stop, released with PTRACE_LISTEN
        bool group_stop = false;        // its last stop was a group-stop
        bool interrupted = false;       // PTRACE_INTERRUPT sent, stop not seen yet
        bool decision_pending = false;  // stopped at an event the monitor has to resume
        int signal = 0;                 // the signal of a signal-delivery-stop
    };

    explicit TracedProcess(int32_t pid) : pid_(pid) {}
    Status seize_pass(bool& found_new);
    // Updates the state for one waitpid result. Events the monitor must see are returned, or
    // queued when `holding` (stop_all, detach_all collect stops and resume nothing).
    std::optional<TraceEvent> on_status(int32_t tid, int status, bool holding);
    void let_go(int32_t tid);  // resume after a stop of our own (CONT or LISTEN)
    // Interrupts every thread not in a ptrace-stop and collects stops until all are stopped or
    // the deadline passes. Returns the tids that did not stop.
    std::vector<int32_t> stop_everything(std::chrono::steady_clock::time_point deadline,
                                         std::map<int32_t, char>* states_before);

    int32_t pid_;
    int options_ = 0;
    std::map<int32_t, ThreadState> threads_;
    std::deque<TraceEvent> deferred_;
    bool gone_ = false;
};

// Every thread of a TracedProcess held stopped for a dump (see TracedProcess::stop_all).
// release() (or the destructor) resumes the threads it stopped; a thread stopped at an event
// the monitor has not resumed yet stays stopped. Must not outlive its TracedProcess.
class AllStopped {
public:
    AllStopped(AllStopped&& other) noexcept;
    AllStopped& operator=(AllStopped&&) = delete;
    ~AllStopped();
    void release();

    const StoppedThreads& threads() const { return view_; }
    double paused_ms() const;
    std::vector<std::string> notes;

private:
    friend class TracedProcess;
    explicit AllStopped(TracedProcess* traced);

    TracedProcess* traced_;
    StoppedThreads view_;
    std::chrono::steady_clock::time_point stopped_at_;
    std::optional<std::chrono::steady_clock::time_point> released_at_;
};

}  // namespace dumpscope
