#include "live/process_freezer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>

#include "live/proc_files.h"
#include "live/ptrace_access.h"
#include "live/thread_ptrace.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

Error attach_error(int32_t pid, const std::string& why) {
    return Error{"cannot attach to " + std::to_string(pid) + ": " + why};
}

Error exited_error(int32_t pid) {
    return Error{"process " + std::to_string(pid) + " exited during the dump"};
}

std::string describe_tracer(int64_t tracer) {
    auto comm = read_file_whole(proc_dir(static_cast<int32_t>(tracer)) + "/comm");
    return std::to_string(tracer) + " (" + (comm ? chomp(*comm) : std::string("?")) + ")";
}

// Reads and parses /proc/PID/task/TID/stat; err_out gets the errno of a failed read.
Result<ProcStat> read_task_stat(int32_t pid, int32_t tid, int* err_out = nullptr) {
    auto text = read_file_whole(task_dir(pid, tid) + "/stat", err_out);
    if (!text) return text.error();
    return parse_stat(*text);
}

// Why PTRACE_SEIZE of tid said EPERM, in words a user can act on.
Error permission_error(int32_t pid, int32_t tid) {
    return attach_error(pid, ptrace_refusal_reason(pid, tid));
}

bool is_dead_state(char state) { return state == 'Z' || state == 'X' || state == 'x'; }

}  // namespace

ProcessFreezer::ProcessFreezer(int32_t pid) : pid_(pid) {}

ProcessFreezer::ProcessFreezer(ProcessFreezer&& other) noexcept
    : pid_(other.pid_),
      tids_(std::move(other.tids_)),
      states_before_(std::move(other.states_before_)),
      pending_signals_(std::move(other.pending_signals_)),
      unstopped_(std::move(other.unstopped_)),
      frozen_(std::exchange(other.frozen_, false)),
      attached_(std::exchange(other.attached_, false)),
      stopped_any_(other.stopped_any_),
      thawed_(other.thawed_),
      first_interrupt_at_(other.first_interrupt_at_),
      frozen_at_(other.frozen_at_),
      thawed_at_(other.thawed_at_) {
    other.tids_.clear();
    other.states_before_.clear();
    other.pending_signals_.clear();
    other.unstopped_.clear();
}

ProcessFreezer::~ProcessFreezer() { thaw(); }

Result<ProcessFreezer> ProcessFreezer::freeze(int32_t pid, std::chrono::milliseconds stop_timeout,
                                              const std::vector<int32_t>& leave_running) {
    if (pid <= 0) return Error{"invalid process id " + std::to_string(pid)};
    if (pid == ::getpid()) return attach_error(pid, "it is dumpscope itself");
    int err = 0;
    auto status = read_file_whole(proc_dir(pid) + "/status", &err);
    if (!status) {
        if (is_gone_errno(err)) return Error{"no such process: " + std::to_string(pid)};
        return attach_error(pid, status.error().message);
    }
    auto tgid = status_number(*status, "Tgid");
    if (tgid && *tgid != pid) {
        return Error{std::to_string(pid) + " is a thread of process " + std::to_string(*tgid) +
                     "; give the process id"};
    }
    auto tracer = status_number(*status, "TracerPid");
    if (tracer && *tracer != 0) {
        return attach_error(pid, "already traced by " + describe_tracer(*tracer));
    }

    ProcessFreezer freezer(pid);
    SeenThreads seen;
    for (int32_t tid : leave_running) seen[tid] = kLeftRunning;
    // Threads can be created until every existing one is stopped: list again until a pass
    // finds nothing new (then all threads are stopped and none can create another). Twice in a
    // row: the kernel goes on with a listing of /proc/PID/task by position, so threads exiting
    // meanwhile can make it skip a live one (LiveFreezer.CatchesThreadsCreatedWhileAttaching
    // missed one in about 40 runs); a listing taken once they are all stopped sees them all.
    for (int quiet_passes = 0; quiet_passes < 2;) {
        bool found_new = false;
        DS_TRY(freezer.attach_pass(seen, stop_timeout, found_new));
        quiet_passes = found_new ? 0 : quiet_passes + 1;
    }
    if (freezer.tids_.empty()) {
        auto stat = read_task_stat(pid, pid);
        if (stat && is_dead_state(stat->state) && !freezer.stopped_any_) {
            return Error{"process " + std::to_string(pid) +
                         " has exited (a zombie not yet reaped by its parent)"};
        }
        return exited_error(pid);
    }
    // Main thread first (it is listed first unless thread ids wrapped around).
    auto main = std::find(freezer.tids_.begin(), freezer.tids_.end(), pid);
    if (main != freezer.tids_.end() && main != freezer.tids_.begin()) {
        size_t index = static_cast<size_t>(main - freezer.tids_.begin());
        std::rotate(freezer.tids_.begin(), main, main + 1);
        std::rotate(freezer.states_before_.begin(), freezer.states_before_.begin() + index,
                    freezer.states_before_.begin() + index + 1);
        std::rotate(freezer.pending_signals_.begin(), freezer.pending_signals_.begin() + index,
                    freezer.pending_signals_.begin() + index + 1);
    }
    freezer.frozen_ = true;
    return Result<ProcessFreezer>(std::move(freezer));
}

Status ProcessFreezer::attach_pass(SeenThreads& seen, std::chrono::milliseconds stop_timeout,
                                   bool& found_new) {
    int err = 0;
    auto listing = list_numeric_dir(proc_dir(pid_) + "/task", &err);
    if (!listing) {
        if (is_gone_errno(err)) return exited_error(pid_);
        return attach_error(pid_, listing.error().message);
    }
    // Interrupt every new thread first so they stop in parallel, then collect the stops.
    std::vector<int32_t> seized;
    std::vector<char> states;
    Status result;
    for (int32_t tid : *listing) {
        auto [known, added] = seen.try_emplace(tid, 0);
        if (!added) {
            if (known->second >= kHeld) continue;  // stopped by us, or to be left running
            // Gone or dying when seen: the same thread still, or a new one given its id since.
            int again_err = 0;
            auto again = read_task_stat(pid_, tid, &again_err);
            if (!again || again->starttime_ticks == known->second) continue;
        }
        found_new = true;
        result = seize_one(tid, seized, states, known->second);
        if (!result.ok()) break;  // still collect the stops of those already seized
    }
    auto deadline = Clock::now() + stop_timeout;
    int32_t stuck = 0;
    for (size_t i = 0; i < seized.size(); ++i) {
        ThreadStop stop = wait_for_stop(seized[i], deadline);
        switch (stop.kind) {
            case ThreadStop::Kind::kStopped:
                add_stopped(seized[i], states[i], stop.pending_signal);
                seen[seized[i]] = kHeld;
                break;
            case ThreadStop::Kind::kGone:
                break;
            case ThreadStop::Kind::kTimeout:
                unstopped_.push_back(seized[i]);
                seen[seized[i]] = kHeld;
                if (stuck == 0) stuck = seized[i];
                break;
        }
    }
    if (!result.ok()) return result;
    if (stuck != 0) {
        auto stat = read_task_stat(pid_, stuck);
        char state = stat ? stat->state : '?';
        return Error{"thread " + std::to_string(stuck) + " of process " + std::to_string(pid_) +
                     " did not stop within " + std::to_string(stop_timeout.count()) +
                     " ms (state " + std::string(1, state) +
                     (state == 'D' ? ": uninterruptible sleep in the kernel)" : ")")};
    }
    return Status::success();
}

Status ProcessFreezer::seize_one(int32_t tid, std::vector<int32_t>& seized,
                                 std::vector<char>& states, uint64_t& start_time) {
    int err = 0;
    auto stat = read_task_stat(pid_, tid, &err);
    if (!stat) {
        if (is_gone_errno(err)) return Status::success();  // exited since the listing
        return attach_error(pid_, stat.error().message);
    }
    start_time = stat->starttime_ticks;
    if (is_dead_state(stat->state)) return Status::success();  // nothing left to stop
    int seize_err = seize_thread(tid);
    if (seize_err == ESRCH) return Status::success();
    if (seize_err == EPERM) {
        // The kernel also says EPERM for a thread that finished exiting since we read its state.
        auto again = read_task_stat(pid_, tid, &err);
        if ((!again && is_gone_errno(err)) || (again && is_dead_state(again->state))) {
            return Status::success();
        }
        return permission_error(pid_, tid);
    }
    if (seize_err != 0) {
        return attach_error(pid_,
                            "thread " + std::to_string(tid) + ": " + std::strerror(seize_err));
    }
    attached_ = true;
    seized.push_back(tid);
    states.push_back(stat->state);
    // ESRCH here means it is exiting; wait_for_stop() then collects its exit.
    if (!first_interrupt_at_) first_interrupt_at_ = Clock::now();
    (void)interrupt_thread(tid);
    return Status::success();
}

void ProcessFreezer::add_stopped(int32_t tid, char state, int pending_signal) {
    if (!stopped_any_) {
        stopped_any_ = true;
        frozen_at_ = first_interrupt_at_.value_or(Clock::now());
    }
    tids_.push_back(tid);
    states_before_.push_back(state);
    pending_signals_.push_back(pending_signal);
}

void ProcessFreezer::thaw() {
    if (!attached_) return;
    attached_ = false;
    frozen_ = false;
    // Main thread last: if the process died, its zombie can only be reaped after the others.
    for (size_t i = tids_.size(); i-- > 0;) detach_thread(tids_[i], pending_signals_[i]);
    if (stopped_any_ && !thawed_) {
        thawed_ = true;
        thawed_at_ = Clock::now();  // the last thread runs again
    }
    // Interrupted but never seen stopped: release them if they stop now; otherwise the kernel
    // releases them when dumpscope exits.
    for (int32_t tid : unstopped_) detach_thread(tid, 0);
    unstopped_.clear();
    std::fill(pending_signals_.begin(), pending_signals_.end(), 0);
}

double ProcessFreezer::paused_ms() const {
    if (!stopped_any_) return 0;
    auto end = thawed_ ? thawed_at_ : Clock::now();
    return std::chrono::duration<double, std::milli>(end - frozen_at_).count();
}

}  // namespace dumpscope
