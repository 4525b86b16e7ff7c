#include "live/clone_reaper.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "live/child_processes.h"
#include "live/proc_files.h"
#include "live/process_freezer.h"
#include "live/zombie_reaping.h"
#include "procfs/status_parser.h"

extern char** environ;

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kReaperFd = 3;  // the report pipe
constexpr int kReadyFd = 4;   // closed by the reaper once it has started
constexpr auto kStartTimeout = std::chrono::seconds(5);
constexpr auto kDeathTimeout = std::chrono::seconds(30);
constexpr int kReapAttempts = 50;
constexpr int kLateLooks = 10;  // 100 ms apart

// Until `fd` (a pipe's read end) reports end of file, or `timeout` passes.
void wait_for_eof(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return;
        char byte;
        if (::read(fd, &byte, 1) <= 0) return;  // end of file (or an error): done waiting
    }
}

void sleep_ms(long ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1000000};
    ::nanosleep(&ts, nullptr);
}

// What dumpscope told the reaper before the pipe closed.
struct Report {
    bool injecting = false;  // got the list of existing children
    bool resumed = false;    // the injection was over before the pipe closed
    std::set<int32_t> existing;
    std::set<int32_t> announced;
    uint64_t injecting_ticks = 0;  // when the list came
    uint64_t resumed_ticks = 0;    // when the target ran again (or the pipe closed)
    uint64_t site = 0;
    std::vector<uint8_t> site_bytes;
};

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

Report read_report(int fd) {
    Report report;
    std::string pending;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
            std::istringstream line(pending.substr(0, nl));
            std::string word;
            line >> word;
            if (word == "children") {
                report.injecting = true;
                report.injecting_ticks = boottime_ticks_now();
                for (int32_t pid = 0; line >> pid;) report.existing.insert(pid);
            } else if (word == "site") {
                std::string hex;
                line >> std::hex >> report.site >> hex;
                report.site_bytes = from_hex(hex);
            } else if (word == "child") {
                int32_t pid = 0;
                if (line >> pid) report.announced.insert(pid);
            } else if (word == "resumed") {
                report.resumed = true;
                report.resumed_ticks = boottime_ticks_now();
            }
        }
    }
    if (report.resumed_ticks == 0) report.resumed_ticks = boottime_ticks_now();
    return report;
}

// New children with exit signal 0 born between the injection and `until_ticks`.
void add_unannounced(int32_t target, const Report& report, uint64_t until_ticks,
                     std::set<int32_t>& out) {
    for (int32_t pid : list_children(target)) {
        if (report.existing.count(pid) != 0 || out.count(pid) != 0) continue;
        auto facts = read_child_facts(pid);
        if (!facts || facts->exit_signal != 0) continue;
        if (facts->starttime_ticks + 1 < report.injecting_ticks ||
            facts->starttime_ticks > until_ticks + 1) {
            continue;
        }
        out.insert(pid);
    }
}

bool traced_by(int32_t target, int32_t tracer) {
    auto tids = list_numeric_dir(proc_dir(target) + "/task");
    if (!tids.ok()) return false;
    for (int32_t tid : *tids) {
        auto status = read_file_whole(task_dir(target, tid) + "/status");
        if (status.ok() && status_number(*status, "TracerPid").value_or(0) == tracer) return true;
    }
    return false;
}

// Children of the target that the injection made: announced ones, and new children with exit
// signal 0 born since the injection began (dumpscope may have died before announcing one). If
// dumpscope died during the injection, the kernel lets the injecting thread go on and it may
// finish an injected clone() untraced: wait until dumpscope's hold on the target is gone and
// look a few more times.
std::set<int32_t> clone_candidates(int32_t target, int32_t dumpscope, const Report& report) {
    std::set<int32_t> out(report.announced.begin(), report.announced.end());
    if (report.resumed) {
        add_unannounced(target, report, report.resumed_ticks, out);
        return out;
    }
    const auto deadline = Clock::now() + kDeathTimeout;
    while (traced_by(target, dumpscope) && Clock::now() < deadline) sleep_ms(5);
    for (int look = 0; look < kLateLooks; ++look) {
        add_unannounced(target, report, boottime_ticks_now(), out);
        sleep_ms(100);
    }
    return out;
}

// Kills the clone, waits until it is an untraced zombie, and reaps it through the target.
bool dispose_of(int32_t target, int32_t clone) {
    const auto deadline = Clock::now() + kDeathTimeout;
    for (;;) {
        auto facts = read_child_facts(clone);
        if (!facts || facts->ppid != target) return true;  // gone, or no longer the target's
        if (facts->state != 'Z') {
            ::kill(clone, SIGKILL);
        } else if (facts->tracer == 0) {
            for (int attempt = 0; attempt < kReapAttempts; ++attempt) {
                if (reap_zombie_through_parent(target, facts->innermost_pid).ok()) return true;
                if (!read_child_facts(clone)) return true;
                sleep_ms(100);
            }
            return false;
        }
        if (Clock::now() >= deadline) return false;
        sleep_ms(5);
    }
}

// With the target frozen and none of its threads inside the site, writes back the site's own
// bytes where the injected code was left.
bool restore_site(int32_t target, uint64_t site, const std::vector<uint8_t>& bytes) {
    auto frozen = ProcessFreezer::freeze(target);
    if (!frozen.ok() || bytes.size() % 8 != 0) return false;
    for (int32_t tid : frozen->tids()) {
        user_regs_struct regs{};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
        if (regs.rip >= site && regs.rip < site + bytes.size()) return false;
    }
    const int32_t tid = frozen->tids().front();
    for (size_t off = 0; off < bytes.size(); off += 8) {
        errno = 0;
        const long word = ::ptrace(PTRACE_PEEKDATA, tid, site + off, nullptr);
        if (errno != 0) return false;
        uint64_t want = 0;
        std::memcpy(&want, bytes.data() + off, 8);
        if (static_cast<uint64_t>(word) == want) continue;
        if (::ptrace(PTRACE_POKEDATA, tid, site + off, want) != 0) return false;
    }
    return true;
}

}  // namespace

Result<CloneReaper> CloneReaper::spawn(int32_t target, const std::string& program) {
    auto facts = read_child_facts(target);
    if (!facts) return Error{fmt::format("no such process: {}", target)};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("cannot create a pipe");
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    int ready_fds[2];
    if (::pipe2(ready_fds, O_CLOEXEC) != 0) return errno_error("cannot create a pipe");
    UniqueFd ready_read(ready_fds[0]);
    UniqueFd ready_write(ready_fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, read_end.get(), kReaperFd);
    posix_spawn_file_actions_adddup2(&actions, ready_write.get(), kReadyFd);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, kReadyFd + 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);

    const std::string fd_arg = std::to_string(kReaperFd);
    const std::string pid_arg = std::to_string(target);
    const std::string start_arg = std::to_string(facts->starttime_ticks);
    const std::string self_arg = std::to_string(::gettid());  // the tracer thread
    std::string name = "dumpscope";
    std::string flag = kCloneReaperArg;
    std::vector<char*> argv = {name.data(),
                               flag.data(),
                               const_cast<char*>(fd_arg.c_str()),
                               const_cast<char*>(pid_arg.c_str()),
                               const_cast<char*>(start_arg.c_str()),
                               const_cast<char*>(self_arg.c_str()),
                               nullptr};
    pid_t reaper = -1;
    const int err = ::posix_spawn(&reaper, program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) return errno_error("cannot start the clone reaper " + program, err);
    // Wait until it has started (loading a program takes milliseconds of CPU), so that its
    // start-up does not compete with the target for the CPUs while the target is stopped.
    ready_write.reset();
    wait_for_eof(ready_read.get(), kStartTimeout);
    return CloneReaper(reaper, std::move(write_end));
}

CloneReaper::CloneReaper(CloneReaper&& other) noexcept
    : reaper_(std::exchange(other.reaper_, -1)),
      pipe_(std::move(other.pipe_)),
      finished_(std::exchange(other.finished_, true)),
      succeeded_(other.succeeded_) {}

CloneReaper::~CloneReaper() { finish(); }

Status CloneReaper::send(const std::string& line) {
    if (!pipe_.valid()) return Error{"the clone reaper is gone"};
    for (size_t done = 0; done < line.size();) {
        const ssize_t n = ::write(pipe_.get(), line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error("cannot talk to the clone reaper");
        done += static_cast<size_t>(n);
    }
    return {};
}

Status CloneReaper::injection_starts(const std::vector<int32_t>& existing_children, uint64_t site,
                                     std::span<const uint8_t> site_bytes) {
    std::string line = fmt::format("site {:x} ", site);
    for (uint8_t b : site_bytes) line += fmt::format("{:02x}", b);
    line += "\nchildren";
    for (int32_t pid : existing_children) line += fmt::format(" {}", pid);
    return send(line + "\n");
}

Status CloneReaper::announce_child(int32_t child) { return send(fmt::format("child {}\n", child)); }

void CloneReaper::target_resumed() { (void)send("resumed\n"); }

bool CloneReaper::finish(std::chrono::milliseconds timeout) {
    if (finished_) return succeeded_;
    finished_ = true;
    pipe_.reset();
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t got = ::waitpid(reaper_, &status, WNOHANG);
        if (got == reaper_) {
            succeeded_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            return succeeded_;
        }
        if ((got < 0 && errno != EINTR) || Clock::now() >= deadline) return false;
        sleep_ms(2);
    }
}

int clone_reaper_main(int argc, char** argv) {
    if (argc != 6) return 2;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_IGN);
    ::close(kReadyFd);                   // started: dumpscope may stop the target now
    ::unsetenv("DUMPSCOPE_TEST_STALL");  // the tests stall dumpscope, never its reaper
    const int fd = std::atoi(argv[2]);
    const int32_t target = std::atoi(argv[3]);
    const uint64_t target_start = std::strtoull(argv[4], nullptr, 10);
    const int32_t dumpscope = std::atoi(argv[5]);

    const Report report = read_report(fd);
    ::close(fd);
    if (!report.injecting) return 0;  // dumpscope never got as far as the injection
    auto facts = read_child_facts(target);
    if (!facts || facts->starttime_ticks != target_start) return 0;  // the target is gone

    bool all = true;
    for (int32_t clone : clone_candidates(target, dumpscope, report)) {
        all = dispose_of(target, clone) && all;
    }
    if (!report.resumed && report.site != 0) {
        bool restored = false;
        for (int attempt = 0; attempt < kReapAttempts && !restored; ++attempt) {
            restored = restore_site(target, report.site, report.site_bytes);
            if (!restored) sleep_ms(100);  // someone else traces it, or a thread is still there
        }
        all = restored && all;
    }
    return all ? 0 : 1;
}

}  // namespace dumpscope
