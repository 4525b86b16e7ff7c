// snapshot_live_process on a frozen child: every part of the Snapshot is filled.
#include "live/live_snapshot.h"

#include <gtest/gtest.h>

#include <ctime>

#include "live/proc_files.h"
#include "live/process_freezer.h"
#include "live_test_child.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;
using testing::StandardReport;

class LiveSnapshotTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(child_.read_report(&report_, sizeof(report_)));
        auto frozen = ProcessFreezer::freeze(child_.pid());
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        frozen_.emplace(std::move(frozen).value());
        auto snapshot = snapshot_live_process(*frozen_);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        snapshot_ = std::move(snapshot).value();
    }

    ChildProcess child_ = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report_{};
    std::optional<ProcessFreezer> frozen_;
    Snapshot snapshot_;
};

TEST_F(LiveSnapshotTest, ThreadsFollowTheFreezerWithNamesRegistersAndStacks) {
    ASSERT_EQ(snapshot_.threads.size(), frozen_->tids().size());
    ASSERT_EQ(snapshot_.threads.size(), 4u);
    for (size_t i = 0; i < snapshot_.threads.size(); ++i) {
        const Thread& thread = snapshot_.threads[i];
        EXPECT_EQ(thread.tid, frozen_->tids()[i]);
        EXPECT_EQ(thread.state, frozen_->states_before()[i]);
        EXPECT_NE(thread.regs.pc(), 0u);
        EXPECT_NE(thread.regs.tls(), 0u);
        EXPECT_LE(thread.stack_start, thread.regs.sp());
        EXPECT_LT(thread.regs.sp(), thread.stack_end);
        EXPECT_GT(thread.start_time_ns_since_boot, 0u);
    }
    EXPECT_EQ(snapshot_.threads[0].tid, child_.pid());
    std::set<std::string> names;
    for (const auto& thread : snapshot_.threads) names.insert(thread.name);
    EXPECT_TRUE(names.count("worker-0") && names.count("worker-1") && names.count("worker-2"));
    // The main thread sleeps in pause().
    EXPECT_TRUE(snapshot_.threads[0].syscall.in_syscall);
}

TEST_F(LiveSnapshotTest, ProcessInfoComesFromProc) {
    const ProcessInfo& p = snapshot_.process;
    EXPECT_EQ(p.pid, child_.pid());
    EXPECT_EQ(p.ppid, ::getpid());
    EXPECT_EQ(p.uid, ::getuid());
    EXPECT_EQ(p.gid, ::getgid());
    auto exe = read_link("/proc/self/exe");
    ASSERT_TRUE(exe.ok());
    EXPECT_EQ(p.exe, *exe);
    auto cmdline = read_file_whole("/proc/self/cmdline");
    ASSERT_TRUE(cmdline.ok());
    EXPECT_EQ(p.cmdline, *cmdline) << "a forked child shares our command line";
    ASSERT_FALSE(p.argv.empty());
    EXPECT_EQ(p.argv[0] + '\0', cmdline->substr(0, p.argv[0].size() + 1));
    EXPECT_FALSE(p.environ.empty());
    EXPECT_NE(p.status.find("Pid:\t" + std::to_string(child_.pid()) + "\n"), std::string::npos);
    EXPECT_EQ(p.stat.rfind(std::to_string(child_.pid()) + " (", 0), 0u);
    EXPECT_FALSE(p.maps.empty());
    EXPECT_FALSE(p.name.empty());
    EXPECT_GT(p.auxv.size(), 0u);
    EXPECT_EQ(p.auxv.size() % 16, 0u);
    EXPECT_NE(p.arg_start, 0u);
    EXPECT_EQ(p.arg_end - p.arg_start, p.cmdline.size());
    EXPECT_LT(p.env_start, p.env_end);
    uint64_t now_ns = static_cast<uint64_t>(std::time(nullptr)) * 1'000'000'000ull;
    EXPECT_LT(p.start_time_unix_ns, now_ns + 60'000'000'000ull);
    EXPECT_GT(p.start_time_unix_ns, now_ns - 3600'000'000'000ull);
}

TEST_F(LiveSnapshotTest, MappingsMemoryAndFds) {
    ASSERT_FALSE(snapshot_.mappings.empty());
    for (size_t i = 1; i < snapshot_.mappings.size(); ++i) {
        EXPECT_LE(snapshot_.mappings[i - 1].end, snapshot_.mappings[i].start);
    }
    const Mapping* marker = snapshot_.mapping_at(report_.marker_addr);
    ASSERT_NE(marker, nullptr);
    EXPECT_TRUE(marker->write);

    ASSERT_TRUE(snapshot_.memory);
    uint64_t value = 0;
    auto got = snapshot_.memory->read(report_.marker_addr,
                                      std::span(reinterpret_cast<uint8_t*>(&value), 8));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 8u);
    EXPECT_EQ(value, testing::kMarkerValue);

    bool pipe_seen = false;
    for (const auto& fd : snapshot_.fds) {
        EXPECT_GE(fd.fd, 0);
        EXPECT_FALSE(fd.target.empty());
        pipe_seen = pipe_seen || (fd.type == "pipe" && fd.target.rfind("pipe:[", 0) == 0);
    }
    EXPECT_TRUE(pipe_seen) << "the report pipe";

    EXPECT_EQ(snapshot_.system.sysname, "Linux");
    EXPECT_GT(snapshot_.system.boot_time_unix, 0u);
    EXPECT_EQ(snapshot_.capture.method, "ptrace");
    EXPECT_FALSE(snapshot_.modules.empty());
    EXPECT_FALSE(snapshot_.exception.has_value());
}

// What a clone dump keeps out of the pause: the system info it read before the stop is used as
// it is, and the modules and fds are left for read_modules_and_fds, which then finds the same
// as a snapshot that read them during the stop.
TEST_F(LiveSnapshotTest, OutsideThePausePartsAreTakenOrLeftForLater) {
    SystemInfo before = snapshot_.system;
    before.nodename = "read-before-the-stop";
    OutsideThePause outside;
    outside.system_before = &before;
    outside.modules_and_fds_later = true;
    auto partial = snapshot_live_process(*frozen_, outside);
    ASSERT_TRUE(partial.ok()) << partial.error().message;
    EXPECT_EQ(partial->system.nodename, "read-before-the-stop");
    EXPECT_EQ(partial->threads.size(), snapshot_.threads.size());
    EXPECT_EQ(partial->mappings.size(), snapshot_.mappings.size());
    EXPECT_TRUE(partial->modules.empty());
    EXPECT_TRUE(partial->fds.empty());

    read_modules_and_fds(child_.pid(), *partial);
    ASSERT_FALSE(snapshot_.modules.empty());
    ASSERT_EQ(partial->modules.size(), snapshot_.modules.size());
    for (size_t i = 0; i < snapshot_.modules.size(); ++i) {
        EXPECT_EQ(partial->modules[i].path, snapshot_.modules[i].path);
        EXPECT_EQ(partial->modules[i].build_id, snapshot_.modules[i].build_id);
    }
    ASSERT_FALSE(snapshot_.fds.empty());
    ASSERT_EQ(partial->fds.size(), snapshot_.fds.size());
    for (size_t i = 0; i < snapshot_.fds.size(); ++i) {
        EXPECT_EQ(partial->fds[i].fd, snapshot_.fds[i].fd);
        EXPECT_EQ(partial->fds[i].target, snapshot_.fds[i].target);
    }
}

TEST(LiveSnapshot, RefusesAThawedFreezer) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    auto frozen = ProcessFreezer::freeze(child.pid());
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    frozen->thaw();
    auto snapshot = snapshot_live_process(*frozen);
    ASSERT_FALSE(snapshot.ok());
    EXPECT_NE(snapshot.error().message.find("not frozen"), std::string::npos);
}

// SIGKILL while frozen: the snapshot reports the exit instead of crashing, and the freezer
// still cleans up (the guard then reaps the child).
TEST(LiveSnapshot, ProcessKilledWhileFrozenIsAnError) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    auto frozen = ProcessFreezer::freeze(child.pid());
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
    // Wait until the threads are really dead (zombies or gone).
    for (int i = 0; i < 2000; ++i) {
        char state = testing::thread_state(child.pid(), child.pid());
        if (state == 'Z' || state == 'X' || state == '\0') break;
        testing::sleep_ms(5);
    }
    auto snapshot = snapshot_live_process(*frozen);
    ASSERT_FALSE(snapshot.ok());
    EXPECT_NE(snapshot.error().message.find("exited during the dump"), std::string::npos)
        << snapshot.error().message;
}

}  // namespace
}  // namespace dumpscope
