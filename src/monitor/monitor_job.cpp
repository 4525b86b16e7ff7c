#include "monitor/monitor_job.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "common/paths.h"
#include "monitor/monitor_session.h"
#include "monitor/tick_signal.h"
#include "output/write_context.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

struct RunningSession {
    int32_t pid = 0;
    std::thread thread;
    std::atomic<bool> finished{false};
    SessionOutcome outcome;
};

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What can be known before waiting: a dump that can never be written must fail at start, not
// on every trigger.
Status check_output(const MonitorRequest& request) {
    const std::string& output = request.collect.output;
    const bool is_dir = output.empty() || is_directory(output);
    if (!is_dir) {
        if (output.back() == '/') return Error{"no such directory: " + output};
        if (request.triggers.dumps_wanted() > 1 || request.discovery.all || request.discovery.pgid)
            return Error{"OUTPUT must be a directory when more than one dump may be written: " +
                         output};
    }
    const std::string dir = output.empty() ? "." : is_dir ? output : directory_of(output);
    if (!is_directory(dir)) return Error{"no such directory: " + dir};
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return Error{fmt::format("cannot write dumps into {}: {}", dir, std::strerror(errno))};
    struct stat st {};
    if (!is_dir && ::lstat(output.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return Error{output +
                         " exists and is not a regular file; a dump replaces only "
                         "regular files"};
        if (!request.collect.overwrite)
            return Error{output + " already exists (use --overwrite to replace it)"};
    }
    return Status::success();
}

void pause_for(std::chrono::milliseconds duration) {
    timespec ts{static_cast<time_t>(duration.count() / 1000),
                static_cast<long>(duration.count() % 1000) * 1000000};
    ::nanosleep(&ts, nullptr);  // Ctrl-C ends it early
}

}  // namespace

Result<MonitorSummary> run_monitor(const MonitorRequest& request) {
    DS_TRY(request.triggers.validate());
    DS_TRY(check_output(request));
    auto discovery = ProcessDiscovery::create(request.discovery);
    if (!discovery) return discovery.error();

    std::mutex print_lock;
    SessionSettings settings;
    settings.collect = request.collect;
    settings.triggers = request.triggers;
    settings.verbose = request.verbose;
    settings.print = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(print_lock);
        request.print(line);
    };
    install_tick_handler();

    std::atomic<bool> stop{false};
    std::list<RunningSession> sessions;
    MonitorSummary summary;
    bool announced_wait = false;
    const auto poll = std::chrono::milliseconds(request.triggers.poll_ms);
    // Ctrl-C must be answered quickly even with a long --poll.
    const auto step = std::min(poll, std::chrono::milliseconds(200));
    auto next_poll = Clock::now();
    // Every session lets go of its process before this returns, whatever the way out.
    auto stop_sessions = [&] {
        stop.store(true);
        for (auto& s : sessions) {
            while (!s.finished.load()) {
                send_tick(s.thread.native_handle());
                pause_for(std::chrono::milliseconds(20));
            }
            s.thread.join();
        }
    };

    for (;;) {
        if (cancel_requested().load()) {
            summary.interrupted = true;
            break;
        }
        const auto now = Clock::now();
        if (now >= next_poll) {
            next_poll = now + poll;
            if (!discovery->finished()) {
                auto fresh = discovery->poll();
                if (!fresh) {
                    stop_sessions();
                    return fresh.error();
                }
                if (fresh->empty() && sessions.empty() && !announced_wait) {
                    announced_wait = true;
                    settings.print("waiting for " + discovery->describe());
                }
                for (int32_t pid : *fresh) {
                    RunningSession& s = sessions.emplace_back();
                    s.pid = pid;
                    ++summary.processes;
                    s.thread = std::thread([&s, &settings, &stop] {
                        s.outcome = run_session(s.pid, settings, stop);
                        s.finished.store(true);
                    });
                }
            }
            for (auto& s : sessions)
                if (!s.finished.load()) send_tick(s.thread.native_handle());
        }
        const bool all_finished =
            !sessions.empty() && std::all_of(sessions.begin(), sessions.end(),
                                             [](const auto& s) { return s.finished.load(); });
        if (all_finished && discovery->finished()) break;
        const auto until_poll =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - Clock::now());
        pause_for(std::clamp(until_poll, std::chrono::milliseconds(1), step));
    }
    stop_sessions();
    summary.all_completed = !sessions.empty();
    for (const auto& s : sessions) {
        summary.dumps += s.outcome.dumps;
        if (!s.outcome.completed) summary.all_completed = false;
        if (!s.outcome.error.empty() && summary.first_error.empty())
            summary.first_error = fmt::format("{}: {}", s.pid, s.outcome.error);
    }
    return summary;
}

}  // namespace dumpscope
