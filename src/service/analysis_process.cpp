#include "service/analysis_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "live/proc_files.h"
#include "procfs/signal_names.h"
#include "service/analysis_child.h"

extern char** environ;

namespace dumpscope::service {

namespace {

// The answer's descriptor in the child: after stdin, stdout and stderr.
constexpr int kResultFd = 3;

using Clock = std::chrono::steady_clock;

AnalysisOutcome abnormal(std::string reason) {
    return AnalysisOutcome{AnalysisOutcome::End::abnormal, {}, std::move(reason)};
}

// As large a result as this would be as large again: the crash fails.
AnalysisOutcome too_large(const AnalysisLimits& limits) {
    return AnalysisOutcome{AnalysisOutcome::End::answered,
                           {std::nullopt, fmt::format("the analysis result is larger than {} MiB",
                                                      limits.max_answer_bytes >> 20)},
                           ""};
}

Result<pid_t> spawn_child(const AnalysisRun& run, const std::string& dump, int result_write) {
    AnalysisChildArgs args;
    args.dump = dump;
    args.result_fd = kResultFd;
    args.parent = ::getpid();
    args.memory_mb = run.limits.memory_mb;
    args.cpu_seconds = static_cast<uint64_t>(run.limits.timeout.count());
    args.symbols = run.symbols;
    std::vector<std::string> arguments = analysis_child_arguments(args);
    arguments.insert(arguments.begin(), "dumpscope");
    std::vector<char*> argv;
    argv.reserve(arguments.size() + 1);
    for (std::string& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    // What the analysis prints goes to the server's stderr.
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    posix_spawn_file_actions_adddup2(&actions, result_write, kResultFd);
    posix_spawn_file_actions_addclosefrom_np(&actions, kResultFd + 1);
    // Its own process group (killed as a whole), default signal handling, nothing blocked (the
    // server blocks its stop signals in every thread).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int err = ::posix_spawn(&pid, run.program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) return errno_error("cannot start the analysis process " + run.program, err);
    return pid;
}

// How long the threads of `pid` have waited for a CPU so far (the second field of each
// /proc/PID/task/TID/schedstat, in ns): 0 when the kernel does not say.
std::chrono::milliseconds run_queue_wait(pid_t pid) {
    auto tids = list_numeric_dir(proc_dir(pid) + "/task");
    if (!tids.ok()) return std::chrono::milliseconds(0);
    uint64_t waited_ns = 0;
    for (const int32_t tid : *tids) {
        auto text = read_file_whole(task_dir(pid, tid) + "/schedstat");
        unsigned long long ran = 0, waited = 0;
        if (text.ok() && std::sscanf(text->c_str(), "%llu %llu", &ran, &waited) == 2)
            waited_ns += waited;
    }
    return std::chrono::milliseconds(waited_ns / 1'000'000);
}

// Kills the child's process group (the child is a zombie at worst: its pid, which is the group's
// id, is not reused before it is reaped) and reaps the child. Its wait status.
int kill_and_reap(pid_t pid) {
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

}  // namespace

AnalysisOutcome run_analysis_process(const AnalysisRun& run, const std::string& dump, int stop_fd) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return abnormal(errno_error("cannot start the analysis: no pipe").message);
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    if (write_end.get() == kResultFd) {
        // dup2 onto itself would keep close-on-exec: move it out of the way.
        write_end.reset(::fcntl(kResultFd, F_DUPFD_CLOEXEC, kResultFd + 1));
        if (!write_end.valid())
            return abnormal(errno_error("cannot start the analysis: dup").message);
    }
    auto spawned = spawn_child(run, dump, write_end.get());
    write_end.reset();
    if (!spawned.ok()) return abnormal(spawned.error().message);
    const pid_t pid = *spawned;
    // A descriptor readable once the child has exited (glibc 2.36's <sys/pidfd.h>
    // declares pidfd_open without C linkage).
    UniqueFd exited(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!exited.valid()) {
        const std::string error = errno_error("cannot watch the analysis process").message;
        kill_and_reap(pid);
        return abnormal(error);
    }

    // The wall-clock limit counts the time the analysis could run: what it spent waiting for a
    // CPU (it runs at SCHED_IDLE, after the uploads and pages) is added, up to 4 more times the
    // limit, so that a busy server delays an analysis instead of failing its crash.
    const auto started = Clock::now();
    auto deadline = started + run.limits.timeout;
    const auto last_deadline = started + 5 * run.limits.timeout;
    std::string answer;
    bool eof = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            const auto waited = run_queue_wait(pid);
            deadline = std::min(started + run.limits.timeout + waited, last_deadline);
            left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                kill_and_reap(pid);
                return abnormal(fmt::format(
                    "analysis timed out after {} s ({} s of it waiting for a CPU)",
                    std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started)
                        .count(),
                    std::chrono::duration_cast<std::chrono::seconds>(waited).count()));
            }
        }
        pollfd watched[3] = {{exited.get(), POLLIN, 0},
                             {stop_fd, POLLIN, 0},
                             {eof ? -1 : read_end.get(), POLLIN, 0}};
        const int ready =
            ::poll(watched, 3, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) {
            const std::string error = errno_error("cannot wait for the analysis process").message;
            kill_and_reap(pid);
            return abnormal(error);
        }
        if (ready <= 0) continue;
        if (watched[1].revents != 0) {
            kill_and_reap(pid);
            return AnalysisOutcome{AnalysisOutcome::End::stopped, {}, "the server is stopping"};
        }
        if (watched[2].revents != 0) {
            char buffer[65536];
            const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                eof = true;
            } else {
                answer.append(buffer, static_cast<size_t>(n));
                if (answer.size() > run.limits.max_answer_bytes) {
                    kill_and_reap(pid);
                    return too_large(run.limits);
                }
            }
            continue;
        }
        if (watched[0].revents != 0) break;
    }

    // The child has exited: whatever it started goes with its group, and what it wrote is read
    // to the end (no writer is left).
    const int status = kill_and_reap(pid);
    while (!eof) {
        char buffer[65536];
        const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        answer.append(buffer, static_cast<size_t>(n));
        if (answer.size() > run.limits.max_answer_bytes) return too_large(run.limits);
    }
    if (WIFSIGNALED(status)) {
        const int signo = WTERMSIG(status);
        std::string reason = "analysis killed by " + signal_name(signo);
        if (signo == SIGXCPU)
            reason += fmt::format(" (CPU time limit, {} s)", run.limits.timeout.count());
        return abnormal(reason);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return abnormal(fmt::format("the analysis process exited with status {}",
                                    WIFEXITED(status) ? WEXITSTATUS(status) : status));
    auto decoded = decode_analysis_answer(answer);
    if (!decoded.ok()) return abnormal(decoded.error().message);
    return AnalysisOutcome{AnalysisOutcome::End::answered, std::move(*decoded), ""};
}

}  // namespace dumpscope::service
