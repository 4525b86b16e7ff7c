// resolve_target: by PID, by a unique name (comm or argv[0] basename), and the errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "live/target_lookup.h"
#include "live_test_child.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;

// A private directory with /bin/sleep linked under a name no other process has.
class SleepAlias {
public:
    SleepAlias() {
        char dir[] = "/tmp/dslookupXXXXXX";
        if (::mkdtemp(dir) == nullptr) std::abort();
        dir_ = dir;
        name_ = "dsq" + std::to_string(::getpid());  // under 15 chars: comm keeps it whole
        path_ = dir_ + "/" + name_;
        if (::symlink("/bin/sleep", path_.c_str()) != 0) std::abort();
    }
    ~SleepAlias() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }

private:
    std::string dir_, name_, path_;
};

// Waits until the child has exec'd (its comm is no longer ours).
// Waits until the child has exec'd as `comm` and its command line is readable: exec names the
// task before it sets up the new arguments, so /proc/PID/cmdline can still be empty just after
// the name changed.
bool wait_comm(pid_t pid, const std::string& comm) {
    for (int i = 0; i < 2000; ++i) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
        std::string line;
        std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
        std::string args;
        if (std::getline(in, line) && line == comm && std::getline(cmdline, args) && !args.empty())
            return true;
        testing::sleep_ms(5);
    }
    return false;
}

TEST(LiveTargetLookup, ResolvesAPid) {
    ChildProcess child = ChildProcess::exec("/bin/sleep", {"sleep", "600"});
    auto pid = resolve_target(std::to_string(child.pid()));
    ASSERT_TRUE(pid.ok()) << pid.error().message;
    EXPECT_EQ(*pid, child.pid());
}

TEST(LiveTargetLookup, AThreadIdMeansItsProcess) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    testing::StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    auto pid = resolve_target(std::to_string(report.worker_tids[1]));
    ASSERT_TRUE(pid.ok()) << pid.error().message;
    EXPECT_EQ(*pid, child.pid());
}

TEST(LiveTargetLookup, MissingPidIsAnError) {
    ChildProcess child = ChildProcess::fork_with([](int, int) { ::_exit(0); });
    pid_t gone = child.pid();
    child.kill_and_reap();
    auto pid = resolve_target(std::to_string(gone));
    ASSERT_FALSE(pid.ok());
    EXPECT_EQ(pid.error().message, "no such process: " + std::to_string(gone));
    auto huge = resolve_target("99999999999");
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.error().message, "no such process: 99999999999");
}

TEST(LiveTargetLookup, ResolvesAUniqueNameByComm) {
    SleepAlias alias;
    ChildProcess child = ChildProcess::exec(alias.path(), {"x-" + alias.name(), "600"});
    ASSERT_TRUE(wait_comm(child.pid(), alias.name()));
    auto pid = resolve_target(alias.name());
    ASSERT_TRUE(pid.ok()) << pid.error().message;
    EXPECT_EQ(*pid, child.pid());
}

TEST(LiveTargetLookup, ResolvesANameByArgv0Basename) {
    SleepAlias alias;
    const std::string long_name = "dumpscope-lookup-test-" + std::to_string(::getpid());
    ChildProcess child = ChildProcess::exec("/bin/sleep", {"/some/dir/" + long_name, "600"});
    ASSERT_TRUE(wait_comm(child.pid(), "sleep"));
    auto pid = resolve_target(long_name);
    ASSERT_TRUE(pid.ok()) << pid.error().message;
    EXPECT_EQ(*pid, child.pid());
}

TEST(LiveTargetLookup, NoMatchIsAnError) {
    const std::string name = "no-such-dumpscope-target-" + std::to_string(::getpid());
    auto pid = resolve_target(name);
    ASSERT_FALSE(pid.ok());
    EXPECT_EQ(pid.error().message, "no process named " + name);
}

TEST(LiveTargetLookup, SeveralMatchesAreListedWithTheirPids) {
    SleepAlias alias;
    ChildProcess first = ChildProcess::exec(alias.path(), {alias.path(), "600"});
    ChildProcess second = ChildProcess::exec(alias.path(), {alias.path(), "601"});
    ASSERT_TRUE(wait_comm(first.pid(), alias.name()));
    ASSERT_TRUE(wait_comm(second.pid(), alias.name()));
    auto pid = resolve_target(alias.name());
    ASSERT_FALSE(pid.ok());
    const std::string& message = pid.error().message;
    EXPECT_EQ(message.rfind("2 processes are named " + alias.name() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(std::to_string(first.pid()) + " (" + alias.path() + " 600)"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(std::to_string(second.pid()) + " (" + alias.path() + " 601)"),
              std::string::npos)
        << message;
    EXPECT_TRUE(message.ends_with("; give a PID")) << message;
}

TEST(LiveTargetLookup, NeverResolvesToItself) {
    std::ifstream in("/proc/self/comm");
    std::string comm;
    ASSERT_TRUE(std::getline(in, comm));
    auto pid = resolve_target(comm);
    if (pid.ok()) {
        EXPECT_NE(*pid, ::getpid()) << "another process named " << comm;
    } else {
        EXPECT_EQ(pid.error().message.find(std::to_string(::getpid()) + " ("), std::string::npos);
    }
}

}  // namespace
}  // namespace dumpscope
