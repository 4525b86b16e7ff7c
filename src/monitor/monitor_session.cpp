#include "monitor/monitor_session.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "arch/arch.h"
#include "common/units.h"
#include "live/proc_files.h"
#include "live/ptrace_access.h"
#include "live/thread_registers.h"
#include "monitor/attached_dump.h"
#include "monitor/process_sample.h"
#include "monitor/signal_info.h"
#include "monitor/traced_process.h"
#include "monitor/trigger_conditions.h"
#include "procfs/signal_names.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

std::string process_name(int32_t pid) {
    auto comm = read_file_whole(proc_dir(pid) + "/comm");
    return comm ? chomp(*comm) : std::string("?");
}

// A wait status in words: "exit code 3", "killed by SIGTERM".
std::string describe_exit(int status) {
    if (status < 0) return "exited";
    if (WIFEXITED(status)) return fmt::format("exit code {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("killed by {}{}", signal_name(WTERMSIG(status)),
                           WCOREDUMP(status) ? " (core dumped)" : "");
    return fmt::format("wait status {:#x}", status);
}

// The default name can repeat (same trigger within one second): "-2", "-3", ... before ".PID".
Result<std::string> fresh_output_path(const CollectRequest& request, int32_t pid) {
    auto path = choose_output_path(request, pid);
    if (!path || request.overwrite) return path;
    struct stat st {};
    const std::string suffix = fmt::format(".{}.", pid);
    const size_t cut = path->rfind(suffix);
    for (int n = 2; ::stat(path->c_str(), &st) == 0 && cut != std::string::npos && n < 1000; ++n)
        *path = fmt::format("{}-{}{}", path->substr(0, cut), n, path->substr(cut));
    return path;
}

void sleep_until(Clock::time_point when) {
    const auto left = when - Clock::now();
    if (left <= Clock::duration::zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    ::nanosleep(&ts, nullptr);  // EINTR (tick, Ctrl-C) ends it early: the loop looks again
}

class Session {
public:
    Session(int32_t pid, const SessionSettings& settings, const std::atomic<bool>& stop)
        : pid_(pid),
          settings_(settings),
          options_(settings.triggers),
          stop_(stop),
          tracker_(settings.triggers),
          wanted_(settings.triggers.dumps_wanted()) {}

    SessionOutcome run();

private:
    template <typename... Args>
    void say(fmt::format_string<Args...> format, Args&&... args) {
        settings_.print(fmt::format("{} ({}): {}", pid_, name_,
                                    fmt::format(format, std::forward<Args>(args)...)));
    }
    bool done() const { return outcome_.dumps >= wanted_ || ended_ || !outcome_.error.empty(); }
    bool spacing_ok() const {
        return !last_dump_ || std::chrono::duration<double>(Clock::now() - *last_dump_).count() >=
                                  options_.seconds;
    }
    SampleWanted sample_wanted() const;
    void sample_once();
    void handle(const TraceEvent& event);
    void handle_signal(int32_t tid, int signo);
    void handle_exit(int32_t tid, int status);
    bool whole_process_exits(int32_t tid, int status) const;
    bool dump(const std::string& trigger, const std::string& detail, int32_t signal_tid);
    void note_failure(const std::string& message);

    const int32_t pid_;
    const SessionSettings& settings_;
    const TriggerOptions& options_;
    const std::atomic<bool>& stop_;
    std::string name_;
    ConditionTracker tracker_;
    const uint32_t wanted_;
    std::unique_ptr<TracedProcess> traced_;
    std::optional<Clock::time_point> last_dump_;
    bool ended_ = false;
    uint64_t samples_ = 0;
    std::optional<ProcessSample> previous_sample_;  // for --verbose's CPU figure
    std::string last_failure_;  // the last dump's error, while dumps keep failing
    uint32_t same_failures_ = 0;
    SessionOutcome outcome_;
};

// The same failure this many times in a row will not go away by itself.
constexpr uint32_t kGiveUpAfterSameFailures = 3;

SessionOutcome Session::run() {
    name_ = process_name(pid_);
    if (options_.needs_ptrace()) {
        auto traced = TracedProcess::attach(pid_, options_.exit);
        if (!traced) {
            outcome_.error = traced.error().message;
            return outcome_;
        }
        traced_ = std::move(traced).value();
    } else if (Status access = check_ptrace_access(pid_); !access.ok()) {
        // Every dump would be refused the same way: say so now instead of at every trigger.
        outcome_.error = access.error().message;
        return outcome_;
    }
    const std::string what = options_.any() ? options_.describe() : "nothing (dump at once)";
    say("monitoring for {}; {} dump(s){}{}", what, wanted_,
        wanted_ > 1 ? fmt::format(" at least {:g} s apart", options_.seconds) : "",
        options_.needs_sampling() ? fmt::format(", polling every {} ms", options_.poll_ms) : "");
    if (!options_.any()) dump("manual", "process found", 0);

    auto next_sample = Clock::now();
    const auto poll = std::chrono::milliseconds(options_.poll_ms);
    while (!done()) {
        if (stop_.load()) {
            outcome_.cancelled = true;
            say("stopped; {} dump(s) written", outcome_.dumps);
            break;
        }
        if (options_.needs_sampling() && Clock::now() >= next_sample) {
            sample_once();
            next_sample = std::max(next_sample + poll, Clock::now() - poll);
            continue;
        }
        if (traced_) {
            auto event = traced_->next_event();
            if (!event) {
                outcome_.error = event.error().message;
                break;
            }
            if (*event) handle(**event);
        } else {
            sleep_until(next_sample);
        }
    }
    if (traced_) traced_->detach_all();
    outcome_.completed = outcome_.dumps >= wanted_;
    if (outcome_.completed) say("done: {} dump(s) written", outcome_.dumps);
    return outcome_;
}

SampleWanted Session::sample_wanted() const {
    SampleWanted wanted;
    wanted.fds = options_.fds.has_value();
    wanted.threads = options_.hang_seconds && !options_.hang_thread;
    wanted.syscall_of = options_.hang_thread.value_or(0);
    return wanted;
}

void Session::sample_once() {
    auto sample = sample_process(pid_, sample_wanted());
    if (!sample) {
        ended_ = true;
        outcome_.target_ended = true;
        say("{} before the trigger fired", sample.error().message);
        return;
    }
    std::vector<std::string> changes;
    auto firing = tracker_.update(*sample, changes);
    for (const std::string& change : changes) say("{}", change);
    if (firing && spacing_ok() && dump(firing->trigger, firing->detail, 0))
        tracker_.dumped(*firing, Clock::now());
    // After the decision: once this line is out, any dump this sample caused is on disk.
    if (settings_.verbose) {
        say("sample {}: {}", ++samples_,
            describe_sample(*sample, previous_sample_ ? &*previous_sample_ : nullptr));
        previous_sample_ = std::move(*sample);
    }
}

void Session::handle(const TraceEvent& event) {
    switch (event.kind) {
        case TraceEvent::Kind::kProcessGone:
            ended_ = true;
            outcome_.target_ended = true;
            say("process ended ({})", describe_exit(event.status));
            return;
        case TraceEvent::Kind::kSignal:
            handle_signal(event.tid, event.signo);
            return;
        case TraceEvent::Kind::kExit:
            handle_exit(event.tid, event.status);
            return;
    }
}

void Session::handle_signal(int32_t tid, int signo) {
    const bool wanted_signal = std::find(options_.signals.begin(), options_.signals.end(), signo) !=
                               options_.signals.end();
    const bool crash_signal = options_.crash && is_crash_signal(signo);
    if (!wanted_signal && !crash_signal) {
        if (settings_.verbose)
            say("{} in thread {}: not a trigger, passed on", signal_name(signo), tid);
        traced_->resume(tid, signo);  // not ours: pass it on at once
        return;
    }
    auto info = read_signal_info(tid);
    const std::string described = info ? describe_signal(*info) : signal_name(signo);
    if (crash_signal && signal_is_fatal(pid_, signo)) {
        // Its only chance: dump whatever -s says, then let the process die as it would have.
        dump("crash", fmt::format("{} in thread {}", described, tid), tid);
        say("delivering {} to thread {}; the process dies as it would have", signal_name(signo),
            tid);
        traced_->detach_all(tid);  // the held signal is delivered as the thread is let go
        ended_ = true;
        outcome_.target_ended = true;
        return;
    }
    if (crash_signal && !options_.crash_continue) {
        if (settings_.verbose)
            say("{} in thread {}: handled by the process, passed on", described, tid);
        traced_->resume(tid, signo);  // handled by the process: not a crash
        return;
    }
    const std::string trigger = crash_signal ? "crash" : "signal";
    const std::string detail =
        fmt::format("{} in thread {}{}", described, tid, crash_signal ? ", handled" : "");
    if (spacing_ok()) {
        dump(trigger, detail, tid);
    } else {
        say("{}: less than {:g} s since the last dump, not dumping", detail, options_.seconds);
    }
    traced_->resume(tid, signo);  // delivered as if nothing had happened
}

bool Session::whole_process_exits(int32_t tid, int status) const {
    if (WIFSIGNALED(status) || traced_->thread_count() <= 1) return true;
    auto regs = read_thread_registers(tid);
    return regs && arch::syscall_from_context(*regs).number == SYS_exit_group;
}

void Session::handle_exit(int32_t tid, int status) {
    if (options_.exit && whole_process_exits(tid, status))
        dump("exit", fmt::format("{} (thread {})", describe_exit(status), tid), 0);
    traced_->resume(tid, 0);
}

bool Session::dump(const std::string& trigger, const std::string& detail, int32_t signal_tid) {
    CollectRequest request = settings_.collect;
    request.target = std::to_string(pid_);
    request.trigger = trigger;
    request.trigger_detail = detail;
    auto path = fresh_output_path(request, pid_);
    if (!path) {
        say("{}: dump failed: {}", detail, path.error().message);
        note_failure(path.error().message);
        return false;
    }
    request.output = *path;
    auto result = traced_ ? dump_attached(*traced_, request, signal_tid) : collect_dump(request);
    if (!result) {
        say("{}: dump failed: {}", detail, result.error().message);
        note_failure(result.error().message);
        return false;
    }
    same_failures_ = 0;
    ++outcome_.dumps;
    outcome_.paths.push_back(result->path);
    last_dump_ = Clock::now();
    if (!result->clone_fallback.empty())
        say("no clone: {}; a ptrace dump instead", result->clone_fallback);
    for (const std::string& warning : result->clone_warnings) say("{}", warning);
    say("dump {}/{} ({}: {}): {}; {} threads, {} of memory, target paused {} ({}), dump written "
        "in {}",
        outcome_.dumps, wanted_, trigger, detail, result->path, result->threads,
        human_bytes(result->memory_bytes), human_duration_ms(result->pause_ms), result->method,
        human_duration_ms(result->total_ms));
    return true;
}

void Session::note_failure(const std::string& message) {
    same_failures_ = message == last_failure_ ? same_failures_ + 1 : 1;
    last_failure_ = message;
    if (same_failures_ < kGiveUpAfterSameFailures) return;
    outcome_.error =
        fmt::format("giving up after {} dumps failed the same way: {}", same_failures_, message);
    say("{}", outcome_.error);
}

}  // namespace

SessionOutcome run_session(int32_t pid, const SessionSettings& settings,
                           const std::atomic<bool>& stop) {
    Session session(pid, settings, stop);
    return session.run();
}

}  // namespace dumpscope
