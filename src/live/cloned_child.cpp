#include "live/cloned_child.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "live/child_processes.h"
#include "live/proc_files.h"
#include "live/stop_waiter.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

void sleep_us(long us) {
    timespec ts{us / 1000000, (us % 1000000) * 1000};
    ::nanosleep(&ts, nullptr);
}

}  // namespace

ClonedChild::ClonedChild(ClonedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      killed_(other.killed_),
      alive_when_killed_(other.alive_when_killed_),
      reaped_(other.reaped_) {}

ClonedChild::~ClonedChild() {
    kill();
    reap();
}

Status ClonedChild::take_hold() {
    StopWaiter waiter;
    int status = 0;
    const int got = waiter.wait(pid_, status, Clock::now() + std::chrono::seconds(10));
    if (got == 0) return Error{fmt::format("the clone {} did not stop within 10 s", pid_)};
    if (got < 0) return errno_error(fmt::format("cannot wait for the clone {}", pid_));
    if (!WIFSTOPPED(status)) {
        reaped_ = true;
        return Error{fmt::format("the clone {} died before its first stop", pid_)};
    }
    if (::ptrace(PTRACE_SETOPTIONS, pid_, nullptr, PTRACE_O_EXITKILL) != 0) {
        return errno_error(fmt::format("cannot set PTRACE_O_EXITKILL on the clone {}", pid_));
    }
    const std::string path = proc_dir(pid_) + "/oom_score_adj";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!::write(fd, "1000", 4);
        ::close(fd);
    }
    return {};
}

bool ClonedChild::exists_now() const {
    auto facts = read_child_facts(pid_);
    return facts && facts->state != 'Z' && facts->state != 'X';
}

bool ClonedChild::alive() const { return killed_ ? alive_when_killed_ : exists_now(); }

void ClonedChild::kill() {
    if (pid_ == 0 || killed_) return;
    alive_when_killed_ = exists_now();
    killed_ = true;
    if (!reaped_) ::kill(pid_, SIGKILL);
}

void ClonedChild::reap() {
    if (pid_ == 0 || reaped_) return;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
        int status = 0;
        const int got = ::waitpid(pid_, &status, __WALL | WNOHANG);
        if (got == pid_ && (WIFEXITED(status) || WIFSIGNALED(status))) break;
        if (got < 0 && errno != EINTR) break;  // not our tracee any more
        if (Clock::now() >= deadline) return;
        if (got == 0) sleep_us(1000);
    }
    reaped_ = true;
}

}  // namespace dumpscope
