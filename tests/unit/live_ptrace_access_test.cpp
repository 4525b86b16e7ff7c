// check_ptrace_access: decides without touching the target, and names the real cause of a
// refusal (another uid, a process that is not dumpable, another tracer) instead of pointing at
// files the kernel may not have.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "live/ptrace_access.h"

namespace dumpscope {
namespace {

constexpr uid_t kNobody = 65534;

// A child that becomes uid `uid` (unless -1), optionally not dumpable, and waits to be killed.
// Returns its pid once it is ready.
pid_t start_target(int uid, bool dumpable) {
    int ready[2];
    if (::pipe(ready) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        if (uid >= 0 && (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0))
            ::_exit(2);
        if (::prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0) != 0) ::_exit(3);
        const char c = 'r';
        if (::write(ready[1], &c, 1) != 1) ::_exit(4);
        for (;;) ::pause();
    }
    ::close(ready[1]);
    char c = 0;
    const bool ok = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!ok) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return -1;
    }
    return pid;
}

void stop_target(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

// check_ptrace_access(target) as uid `uid` (no capabilities left): its error message, "" when
// allowed, "<setuid failed>" when the test cannot drop privileges.
std::string message_as(uid_t uid, pid_t target) {
    int out[2];
    if (::pipe(out) != 0) return "<pipe failed>";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(out[0]);
        if (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) {
            const char* failed = "<setuid failed>";
            (void)!::write(out[1], failed, std::strlen(failed));
            ::_exit(1);
        }
        const Status status = check_ptrace_access(target);
        const std::string text = status.ok() ? "" : status.error().message;
        (void)!::write(out[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(out[1]);
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    ::waitpid(pid, nullptr, 0);
    return text;
}

bool is_traced(pid_t pid) {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (f == nullptr) return false;
    char line[256];
    bool traced = false;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "TracerPid:", 10) == 0) traced = std::atoi(line + 10) != 0;
    std::fclose(f);
    return traced;
}

TEST(PtraceAccess, OwnDumpableChildIsAllowedAndNotTouched) {
    const pid_t target = start_target(-1, true);
    ASSERT_GT(target, 0);
    EXPECT_TRUE(check_ptrace_access(target).ok());
    EXPECT_FALSE(is_traced(target));
    stop_target(target);
}

TEST(PtraceAccess, AnotherTracerIsNamed) {
    const pid_t target = start_target(-1, true);
    ASSERT_GT(target, 0);
    ASSERT_EQ(::ptrace(PTRACE_SEIZE, target, nullptr, nullptr), 0);
    const Status status = check_ptrace_access(target);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("already traced by " + std::to_string(::getpid())),
              std::string::npos)
        << status.error().message;
    stop_target(target);
}

TEST(PtraceAccess, AnotherUserIsTheCauseNamed) {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run as two users";
    const pid_t target = start_target(-1, true);  // root
    ASSERT_GT(target, 0);
    const std::string message = message_as(kNobody, target);
    stop_target(target);
    EXPECT_NE(message.find("runs as uid 0 and dumpscope as uid 65534"), std::string::npos)
        << message;
    EXPECT_EQ(message.find("yama"), std::string::npos) << message;  // unless it is the cause
}

TEST(PtraceAccess, ProcessThatIsNotDumpableIsTheCauseNamed) {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run as another user";
    const pid_t target = start_target(kNobody, false);
    ASSERT_GT(target, 0);
    const std::string not_dumpable = message_as(kNobody, target);
    stop_target(target);
    EXPECT_NE(not_dumpable.find("not dumpable"), std::string::npos) << not_dumpable;

    const pid_t dumpable = start_target(kNobody, true);
    ASSERT_GT(dumpable, 0);
    const std::string allowed = message_as(kNobody, dumpable);
    stop_target(dumpable);
    // Same uid and dumpable: allowed unless Yama says otherwise, and then Yama is named.
    EXPECT_TRUE(allowed.empty() || allowed.find("ptrace_scope") != std::string::npos) << allowed;
}

}  // namespace
}  // namespace dumpscope
