#include "monitor/traced_process.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "live/proc_files.h"
#include "live/ptrace_access.h"
#include "live/thread_ptrace.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

Error attach_error(int32_t pid, const std::string& why) {
    return Error{fmt::format("cannot attach to {}: {}", pid, why)};
}

std::string describe_tracer(int64_t tracer) {
    auto comm = read_file_whole(proc_dir(static_cast<int32_t>(tracer)) + "/comm");
    return fmt::format("{} ({})", tracer, comm ? chomp(*comm) : std::string("?"));
}

std::optional<int64_t> tracer_of(int32_t pid, int32_t tid) {
    auto status = read_file_whole(task_dir(pid, tid) + "/status");
    if (!status) return std::nullopt;
    return status_number(*status, "TracerPid");
}

char state_of(int32_t pid, int32_t tid) {
    auto text = read_file_whole(task_dir(pid, tid) + "/stat");
    if (!text) return '?';
    auto stat = parse_stat(*text);
    return stat ? stat->state : '?';
}

bool is_stop_signal(int signo) {
    return signo == SIGSTOP || signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU;
}

long ptrace_request(int request, int32_t tid, uintptr_t data) {
    return ::ptrace(static_cast<__ptrace_request>(request), tid, nullptr,
                    reinterpret_cast<void*>(data));
}

void short_sleep(std::chrono::microseconds pause) {
    timespec ts{0, static_cast<long>(pause.count()) * 1000};
    ::nanosleep(&ts, nullptr);
}

}  // namespace

Result<std::unique_ptr<TracedProcess>> TracedProcess::attach(int32_t pid, bool trace_exit) {
    if (pid <= 0) return Error{fmt::format("invalid process id {}", pid)};
    if (pid == ::getpid()) return attach_error(pid, "it is dumpscope itself");
    int err = 0;
    auto status = read_file_whole(proc_dir(pid) + "/status", &err);
    if (!status) {
        if (is_gone_errno(err)) return Error{fmt::format("no such process: {}", pid)};
        return attach_error(pid, status.error().message);
    }
    auto tgid = status_number(*status, "Tgid");
    if (tgid && *tgid != pid)
        return Error{fmt::format("{} is a thread of process {}; give the process id", pid, *tgid)};
    auto tracer = status_number(*status, "TracerPid");
    if (tracer && *tracer != 0)
        return attach_error(pid, "already traced by " + describe_tracer(*tracer));

    std::unique_ptr<TracedProcess> traced(new TracedProcess(pid));
    traced->options_ = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
    if (trace_exit) traced->options_ |= PTRACE_O_TRACEEXIT;
    // Threads not seized yet can create threads we would miss; threads already seized pass
    // their children to us by PTRACE_O_TRACECLONE. List again until nothing is new.
    for (bool found_new = true; found_new;) {
        found_new = false;
        DS_TRY(traced->seize_pass(found_new));
    }
    if (traced->threads_.empty()) return Error{fmt::format("process {} has exited", pid)};
    return traced;
}

Status TracedProcess::seize_pass(bool& found_new) {
    int err = 0;
    auto listing = list_numeric_dir(proc_dir(pid_) + "/task", &err);
    if (!listing) {
        if (is_gone_errno(err)) return Error{fmt::format("process {} has exited", pid_)};
        return attach_error(pid_, listing.error().message);
    }
    for (int32_t tid : *listing) {
        if (threads_.count(tid) != 0) continue;
        found_new = true;
        if (ptrace_request(PTRACE_SEIZE, tid, static_cast<uintptr_t>(options_)) == 0) {
            threads_.emplace(tid, ThreadState{});
            continue;
        }
        const int seize_err = errno;
        if (seize_err == ESRCH) continue;  // exited since the listing
        if (seize_err == EPERM) {
            auto by = tracer_of(pid_, tid);
            if (!by) continue;        // gone meanwhile
            if (*by == ::gettid()) {  // a child of a seized thread: already ours
                threads_.emplace(tid, ThreadState{});
                continue;
            }
            if (*by != 0) return attach_error(pid_, "already traced by " + describe_tracer(*by));
            return attach_error(pid_, ptrace_refusal_reason(pid_, tid));
        }
        return attach_error(pid_, fmt::format("thread {}: {}", tid, std::strerror(seize_err)));
    }
    return Status::success();
}

// bugprone-exception-escape: only std::bad_alloc can leave detach_all (its two small vectors),
// and std::terminate is then what any destructor does.
// NOLINTNEXTLINE(bugprone-exception-escape)
TracedProcess::~TracedProcess() { detach_all(); }

std::optional<TraceEvent> TracedProcess::on_status(int32_t tid, int status, bool holding) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        threads_.erase(tid);
        if (tid != pid_) return std::nullopt;
        // The leader is reported last, once every thread is gone: the process is over.
        threads_.clear();
        deferred_.clear();
        gone_ = true;
        return TraceEvent{TraceEvent::Kind::kProcessGone, tid, 0, status};
    }
    if (!WIFSTOPPED(status)) return std::nullopt;
    ThreadState& t = threads_[tid];  // an unknown tid is a new thread whose clone we missed
    t.stopped = true;
    t.listening = false;
    t.interrupted = false;
    t.group_stop = false;
    t.signal = 0;
    const int signo = WSTOPSIG(status);
    std::optional<TraceEvent> event;
    switch (status >> 16) {
        case 0:  // signal-delivery-stop
            t.signal = signo;
            event = TraceEvent{TraceEvent::Kind::kSignal, tid, signo, -1};
            break;
        case PTRACE_EVENT_CLONE: {
            unsigned long child = 0;
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child) == 0)
                threads_.try_emplace(static_cast<int32_t>(child), ThreadState{});
            break;
        }
        case PTRACE_EVENT_EXEC: {
            // Every other thread is gone; the one that exec'd now has the process id.
            for (auto it = threads_.begin(); it != threads_.end();)
                it = it->first == tid ? std::next(it) : threads_.erase(it);
            break;
        }
        case PTRACE_EVENT_EXIT: {
            unsigned long exit_status = 0;
            ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &exit_status);
            event = TraceEvent{TraceEvent::Kind::kExit, tid, 0, static_cast<int>(exit_status)};
            break;
        }
        case PTRACE_EVENT_STOP:  // our interrupt, a new thread's first stop, or a group-stop
            t.group_stop = is_stop_signal(signo);
            break;
        default:
            break;
    }
    if (event) {
        t.decision_pending = true;
        if (!holding) return event;
        deferred_.push_back(*event);
        return std::nullopt;
    }
    if (!holding) let_go(tid);
    return std::nullopt;
}

void TracedProcess::let_go(int32_t tid) {
    auto it = threads_.find(tid);
    if (it == threads_.end() || !it->second.stopped) return;
    ThreadState& t = it->second;
    const bool listen = t.group_stop;
    if (ptrace_request(listen ? PTRACE_LISTEN : PTRACE_CONT, tid, 0) == 0 || errno == ESRCH) {
        t.stopped = false;  // ESRCH: it is dying; its exit will be reported
        t.listening = listen;
    }
}

Result<std::optional<TraceEvent>> TracedProcess::next_event() {
    if (!deferred_.empty()) {
        TraceEvent event = deferred_.front();
        deferred_.pop_front();
        return std::optional<TraceEvent>(event);
    }
    if (gone_) return std::optional<TraceEvent>(TraceEvent{});
    for (;;) {
        int status = 0;
        const pid_t tid = ::waitpid(-1, &status, __WALL | __WNOTHREAD);
        if (tid < 0) {
            if (errno == EINTR) return std::optional<TraceEvent>();
            if (errno == ECHILD) {  // nothing traced any more
                threads_.clear();
                gone_ = true;
                return std::optional<TraceEvent>(TraceEvent{});
            }
            return errno_error(fmt::format("waiting for process {}", pid_));
        }
        if (auto event = on_status(tid, status, false)) return event;
    }
}

void TracedProcess::resume(int32_t tid, int signo) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) return;
    ThreadState& t = it->second;
    t.decision_pending = false;
    t.signal = 0;
    if (!t.stopped) return;
    ptrace_request(PTRACE_CONT, tid, static_cast<uintptr_t>(signo));
    t.stopped = false;
}

std::vector<int32_t> TracedProcess::stop_everything(Clock::time_point deadline,
                                                    std::map<int32_t, char>* states_before) {
    for (auto& [tid, t] : threads_) {
        if (t.stopped) continue;
        if (states_before != nullptr)
            (*states_before)[tid] = t.listening ? 'T' : state_of(pid_, tid);
        if (!t.interrupted) {
            ptrace_request(PTRACE_INTERRUPT, tid, 0);  // ESRCH: dying; its exit comes instead
            t.interrupted = true;
        }
    }
    std::chrono::microseconds pause{0};
    for (;;) {
        const bool all_stopped =
            std::all_of(threads_.begin(), threads_.end(),
                        [](const auto& entry) { return entry.second.stopped; });
        if (all_stopped || gone_) break;
        int status = 0;
        const pid_t tid = ::waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
        if (tid > 0) {
            const bool known = threads_.count(tid) != 0;
            on_status(tid, status, true);
            if (!known && states_before != nullptr) (*states_before)[tid] = 'R';  // new thread
            // A thread created meanwhile stops by itself (auto-attached); nothing to send.
            pause = std::chrono::microseconds{0};
            continue;
        }
        if (tid < 0 && errno == ECHILD) {
            threads_.clear();
            gone_ = true;
            break;
        }
        if (Clock::now() >= deadline) break;
        pause =
            std::clamp(pause * 2, std::chrono::microseconds{20}, std::chrono::microseconds{2000});
        short_sleep(pause);
    }
    std::vector<int32_t> unstopped;
    for (const auto& [tid, t] : threads_)
        if (!t.stopped) unstopped.push_back(tid);
    return unstopped;
}

AllStopped TracedProcess::stop_all(std::chrono::milliseconds timeout) {
    AllStopped all(this);
    std::map<int32_t, char> states_before;
    const std::vector<int32_t> unstopped = stop_everything(Clock::now() + timeout, &states_before);
    for (int32_t tid : unstopped) {
        all.notes.push_back(fmt::format("thread {} did not stop within {} ms (state {})", tid,
                                        timeout.count(), state_of(pid_, tid)));
    }
    StoppedThreads& view = all.view_;
    view.pid = pid_;
    for (const auto& [tid, t] : threads_) {
        if (!t.stopped) continue;
        auto before = states_before.find(tid);
        // Threads already stopped at an event were running when it happened.
        const char state = before != states_before.end() ? before->second : 'R';
        if (tid == pid_) {
            view.tids.insert(view.tids.begin(), tid);
            view.states_before.insert(view.states_before.begin(), state);
        } else {
            view.tids.push_back(tid);
            view.states_before.push_back(state);
        }
    }
    return all;
}

void TracedProcess::detach_all(int32_t last_tid) {
    if (threads_.empty()) return;
    // PTRACE_DETACH needs a ptrace-stop: stop whatever runs (briefly), then let go of all.
    const std::vector<int32_t> unstopped =
        stop_everything(Clock::now() + std::chrono::seconds(2), nullptr);
    std::vector<int32_t> order;
    for (const auto& [tid, t] : threads_)
        if (tid != pid_ && tid != last_tid) order.push_back(tid);
    if (threads_.count(pid_) != 0 && pid_ != last_tid) order.push_back(pid_);
    if (last_tid != 0 && threads_.count(last_tid) != 0) order.push_back(last_tid);
    for (int32_t tid : order) {
        const ThreadState& t = threads_[tid];
        if (!t.stopped) continue;  // released by the kernel when this thread exits
        detach_thread(tid, t.decision_pending ? t.signal : 0);
    }
    threads_.clear();
    deferred_.clear();
}

AllStopped::AllStopped(TracedProcess* traced) : traced_(traced), stopped_at_(Clock::now()) {}

AllStopped::AllStopped(AllStopped&& other) noexcept
    : notes(std::move(other.notes)),
      traced_(std::exchange(other.traced_, nullptr)),
      view_(std::move(other.view_)),
      stopped_at_(other.stopped_at_),
      released_at_(other.released_at_) {}

AllStopped::~AllStopped() { release(); }

void AllStopped::release() {
    if (traced_ == nullptr) return;
    TracedProcess* traced = std::exchange(traced_, nullptr);
    for (auto& [tid, t] : traced->threads_)
        if (t.stopped && !t.decision_pending) traced->let_go(tid);
    released_at_ = Clock::now();  // the last thread runs again
}

double AllStopped::paused_ms() const {
    const auto end = released_at_ ? *released_at_ : Clock::now();
    return std::chrono::duration<double, std::milli>(end - stopped_at_).count();
}

}  // namespace dumpscope
