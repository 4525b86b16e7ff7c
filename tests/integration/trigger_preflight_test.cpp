// Triggers that can never write a dump fail at start with one line, as ProcDump does, instead of
// "dump failed" at every poll forever: an output directory that does not exist, a target already
// traced by another tracer, a target the user may not trace. A failure that only shows when
// the trigger fires (the directory removed meanwhile) ends the monitor after 3 identical ones.
// Every test waits for events (lines, exits), never for fixed times.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "monitored_child.h"
#include "support.h"

using namespace test_support;

namespace {

constexpr int kSeconds = 20;  // for what takes well under a second

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

int open_fds(pid_t pid) {
    int n = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        (void)entry;
        ++n;
    }
    return n;
}

// Runs a trigger command to its end; fails the test if it still runs after kSeconds.
struct Outcome {
    int exit_code = -1;
    std::string out, err;
};

Outcome run_monitor(const std::vector<std::string>& argv, const TempDir& logs) {
    BackgroundCommand command(argv, logs.path());
    auto code = command.wait(kSeconds);
    EXPECT_TRUE(code.has_value()) << "still running after " << kSeconds << " s: " << command.out();
    return {code.value_or(-1), command.out(), command.err()};
}

TEST(TriggerPreflight, MissingOutputDirectoryFailsAtStart) {
    Fixture target("fixture_waiters");
    TempDir logs;
    const std::string pid = std::to_string(target.pid());
    for (const std::string& output :
         {logs.path() + "/no-such-dir/", logs.path() + "/no-such-dir/x.dmp"}) {
        Outcome r = run_monitor(
            {dumpscope_binary(), "collect", "--threads", "1", "--poll", "100", pid, output}, logs);
        EXPECT_NE(r.exit_code, 0) << output;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_NE(r.err.find("no such directory"), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("dump failed"), std::string::npos) << r.out;
    }
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

TEST(TriggerPreflight, TargetTracedByStraceFailsAtStartNamingTheTracer) {
    if (!have_program("strace")) GTEST_SKIP() << "strace missing";
    Program strace({"strace", "-f", "-o", "/dev/null", fixture_path("fixture_waiters")});
    const std::vector<pid_t> children = children_of(strace.pid());
    ASSERT_EQ(children.size(), 1u);
    const pid_t traced = children[0];
    TempDir dir, logs;
    Outcome r = run_monitor({dumpscope_binary(), "collect", "--threads", "1", "--poll", "100",
                             std::to_string(traced), dir.path()},
                            logs);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("traced by " + std::to_string(strace.pid()) + " (strace)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("dump failed"), std::string::npos) << r.out;
    ::kill(traced, SIGKILL);  // strace reaps it; the Program reaps strace
}

TEST(TriggerPreflight, UnprivilegedUserFailsAtStartAgainstRootProcess) {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to start a process another user may not trace";
    const std::string setpriv = "/usr/bin/setpriv";  // BackgroundCommand does not search PATH
    if (::access(setpriv.c_str(), X_OK) != 0) GTEST_SKIP() << setpriv << " missing";
    const std::vector<std::string> as_nobody = {setpriv, "--reuid=65534", "--regid=65534",
                                                "--clear-groups"};
    std::vector<std::string> probe = as_nobody;
    probe.insert(probe.end(), {"test", "-x", dumpscope_binary()});
    if (run(probe).exit_code != 0)
        GTEST_SKIP() << "user nobody cannot execute " << dumpscope_binary();
    Fixture target("fixture_waiters");
    TempDir dir, logs;
    ::chmod(dir.path().c_str(), 0777);
    std::vector<std::string> argv = as_nobody;
    argv.insert(argv.end(), {dumpscope_binary(), "collect", "--threads", "1", "--poll", "100",
                             std::to_string(target.pid()), dir.path()});
    Outcome r = run_monitor(argv, logs);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("runs as uid 0 and dumpscope as uid 65534"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("dump failed"), std::string::npos) << r.out;
    EXPECT_TRUE(dir.files().empty());
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

// What cannot be checked at start (the directory removed after it) gives up after 3 identical
// failures, with one line saying why.
TEST(TriggerPreflight, RepeatedIdenticalFailuresGiveUp) {
    DrivenFixture target("fixture_fds");
    TempDir logs;
    const std::string out_dir = logs.path() + "/dumps";
    ASSERT_EQ(::mkdir(out_dir.c_str(), 0700), 0);
    const int threshold = open_fds(target.pid()) + 3;
    BackgroundCommand monitor({dumpscope_binary(), "collect", "--fds", std::to_string(threshold),
                               "--poll", "50", std::to_string(target.pid()), out_dir + "/"},
                              logs.path());
    ASSERT_TRUE(monitor.wait_for_output("monitoring for", kSeconds)) << monitor.err();
    ASSERT_EQ(::rmdir(out_dir.c_str()), 0);
    target.send("open 5");
    target.read_json();
    auto code = monitor.wait(kSeconds);
    ASSERT_TRUE(code.has_value()) << monitor.out();
    EXPECT_EQ(*code, 1);
    const std::string out = monitor.out();
    EXPECT_NE(out.find("giving up after 3 dumps failed the same way"), std::string::npos) << out;
    EXPECT_TRUE(one_line(monitor.err())) << monitor.err();
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

}  // namespace
