// The monitor's pure logic, with made-up samples and files: trigger conditions and their hold
// times, the hang detector, signal names, the crash handler's configuration, core_pattern
// building and the dump quota.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "monitor/core_pattern.h"
#include "monitor/crash_handler_config.h"
#include "monitor/dump_quota.h"
#include "monitor/hang_detector.h"
#include "monitor/process_sample.h"
#include "monitor/trigger_conditions.h"
#include "monitor/trigger_signals.h"
#include "procfs/signal_names.h"

namespace dumpscope {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kMiB = 1024 * 1024;

ProcessSample sample_at(Clock::time_point start, double seconds) {
    ProcessSample s;
    s.when = start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    s.state = 'S';
    s.threads = 1;
    return s;
}

ThreadSample blocked_thread(int32_t tid, uint64_t runtime, const std::string& syscall = "") {
    ThreadSample t;
    t.tid = tid;
    t.state = 'S';
    t.runtime_ns = runtime;
    t.syscall = syscall;
    return t;
}

TEST(MonitorConditions, CpuMustHoldForTheWholeHoldTime) {
    TriggerOptions options;
    options.cpu_above = 50;
    options.seconds = 2;
    ConditionTracker tracker(options);
    const auto start = Clock::now();
    std::vector<std::string> changes;
    uint64_t cpu = 0;
    // 100% of one core from the second sample on.
    for (int i = 0; i <= 4; ++i) {
        ProcessSample s = sample_at(start, i * 0.5);
        s.cpu_ns = cpu;
        cpu += 500'000'000;
        auto firing = tracker.update(s, changes);
        EXPECT_FALSE(firing) << "fired after " << i * 0.5 << " s";
    }
    ProcessSample s = sample_at(start, 2.5);
    s.cpu_ns = cpu;
    auto firing = tracker.update(s, changes);
    ASSERT_TRUE(firing);
    EXPECT_EQ(firing->trigger, "cpu");
    EXPECT_NE(firing->detail.find("cpu 100% >= 50% for 2.0 s"), std::string::npos)
        << firing->detail;
    ASSERT_FALSE(changes.empty());
    EXPECT_NE(changes[0].find("holding"), std::string::npos) << changes[0];
}

TEST(MonitorConditions, CpuDipRestartsTheHold) {
    TriggerOptions options;
    options.cpu_above = 50;
    options.seconds = 1;
    ConditionTracker tracker(options);
    const auto start = Clock::now();
    std::vector<std::string> changes;
    const uint64_t cpu_at[] = {0, 500'000'000, 500'000'000, 1'000'000'000, 1'500'000'000};
    std::optional<Firing> firing;
    for (int i = 0; i < 5; ++i) {
        ProcessSample s = sample_at(start, i * 0.5);
        s.cpu_ns = cpu_at[i];
        firing = tracker.update(s, changes);
        EXPECT_FALSE(firing) << "sample " << i;
    }
    auto no_longer = [](const std::string& c) { return c.find("no longer") != std::string::npos; };
    EXPECT_EQ(std::count_if(changes.begin(), changes.end(), no_longer), 1);
}

TEST(MonitorConditions, MemoryThresholdsAreUsedUpInOrder) {
    TriggerOptions options;
    options.mem_above_mb = {100, 200};
    ConditionTracker tracker(options);
    const auto start = Clock::now();
    std::vector<std::string> changes;
    ProcessSample s = sample_at(start, 0);
    s.rss_bytes = 250 * kMiB;  // above both: the first threshold fires first
    auto first = tracker.update(s, changes);
    ASSERT_TRUE(first);
    EXPECT_NE(first->detail.find(">= 100 MB"), std::string::npos) << first->detail;
    tracker.dumped(*first, s.when);
    EXPECT_FALSE(tracker.exhausted());
    auto second = tracker.update(sample_at(start, 1), changes);  // rss 0 now
    EXPECT_FALSE(second);
    s = sample_at(start, 2);
    s.rss_bytes = 201 * kMiB;
    second = tracker.update(s, changes);
    ASSERT_TRUE(second);
    EXPECT_NE(second->detail.find(">= 200 MB"), std::string::npos) << second->detail;
    tracker.dumped(*second, s.when);
    EXPECT_TRUE(tracker.exhausted());
    EXPECT_FALSE(tracker.update(s, changes));
}

TEST(MonitorConditions, ThreadsAndFdsCompareAtOrAbove) {
    TriggerOptions options;
    options.threads = 8;
    options.fds = 100;
    ConditionTracker tracker(options);
    const auto start = Clock::now();
    std::vector<std::string> changes;
    ProcessSample s = sample_at(start, 0);
    s.threads = 7;
    s.fds = 99;
    EXPECT_FALSE(tracker.update(s, changes));
    s = sample_at(start, 1);
    s.threads = 7;
    s.fds = 100;
    auto firing = tracker.update(s, changes);
    ASSERT_TRUE(firing);
    EXPECT_EQ(firing->trigger, "fds");
    s.threads = 8;
    firing = tracker.update(s, changes);
    ASSERT_TRUE(firing);
    EXPECT_EQ(firing->trigger, "threads") << "option order decides between two that hold";
}

// --verbose's per-sample words: CPU over the interval since the previous sample (none for the
// first), memory in whole MiB, fds only when they were read.
TEST(MonitorSamples, DescribedWithCpuSinceThePreviousAndFdsWhenRead) {
    const auto start = Clock::now();
    ProcessSample first = sample_at(start, 0);
    first.cpu_ns = 1'000'000'000;
    first.rss_bytes = 33 * kMiB + kMiB / 2;
    first.threads = 2;
    EXPECT_EQ(describe_sample(first, nullptr), "memory 33 MB, threads 2");
    ProcessSample second = sample_at(start, 2);
    second.cpu_ns = 1'500'000'000;  // half a second of CPU in two seconds
    second.rss_bytes = 65 * kMiB;
    second.threads = 7;
    second.fds = 23;
    EXPECT_EQ(describe_sample(second, &first), "cpu 25%, memory 65 MB, threads 7, fds 23");
}

TEST(MonitorHang, AllThreadsBlockedWithoutCpuForTheWholeTime) {
    HangDetector hang(2.0, 0);
    const auto start = Clock::now();
    std::string change;
    for (double t : {0.0, 1.0, 1.9}) {
        ProcessSample s = sample_at(start, t);
        s.thread_samples = {blocked_thread(10, 500), blocked_thread(11, 700)};
        EXPECT_FALSE(hang.update(s, change)) << t;
    }
    ProcessSample s = sample_at(start, 2.0);
    s.thread_samples = {blocked_thread(10, 500), blocked_thread(11, 700)};
    auto detail = hang.update(s, change);
    ASSERT_TRUE(detail);
    EXPECT_NE(detail->find("all 2 threads blocked for 2.0 s"), std::string::npos) << *detail;
}

TEST(MonitorHang, RunTimeOrARunningThreadRestartsTheClock) {
    HangDetector hang(1.0, 0);
    const auto start = Clock::now();
    std::string change;
    ProcessSample s = sample_at(start, 0);
    s.thread_samples = {blocked_thread(10, 500)};
    EXPECT_FALSE(hang.update(s, change));
    s = sample_at(start, 0.9);
    s.thread_samples = {blocked_thread(10, 501)};  // it ran a little: progress
    EXPECT_FALSE(hang.update(s, change));
    s = sample_at(start, 1.5);
    s.thread_samples = {blocked_thread(10, 501)};
    EXPECT_FALSE(hang.update(s, change)) << "only 0.6 s since the last progress";
    s = sample_at(start, 1.8);
    s.thread_samples = {blocked_thread(10, 501)};
    s.thread_samples[0].state = 'R';
    EXPECT_FALSE(hang.update(s, change));
    s = sample_at(start, 5);
    s.thread_samples = {blocked_thread(10, 501)};
    EXPECT_FALSE(hang.update(s, change)) << "a running thread restarted the clock";
}

TEST(MonitorHang, OneThreadInTheSameSyscall) {
    HangDetector hang(1.0, 11);
    const auto start = Clock::now();
    std::string change;
    const std::string futex = "202 0x7f00 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f01";
    ProcessSample s = sample_at(start, 0);
    s.thread_samples = {blocked_thread(11, 5, futex)};
    EXPECT_FALSE(hang.update(s, change));
    s = sample_at(start, 1.2);
    s.thread_samples = {blocked_thread(11, 5, futex)};
    auto detail = hang.update(s, change);
    ASSERT_TRUE(detail);
    EXPECT_NE(detail->find("thread 11 in the same system call 202"), std::string::npos) << *detail;

    HangDetector other(1.0, 11);
    s = sample_at(start, 0);
    s.thread_samples = {blocked_thread(11, 5, futex)};
    EXPECT_FALSE(other.update(s, change));
    s = sample_at(start, 1.2);
    s.thread_samples = {blocked_thread(11, 5, "202 0x7f08 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f01")};
    EXPECT_FALSE(other.update(s, change)) << "another futex: it moved";
}

TEST(MonitorSignals, NamesNumbersAndRealtime) {
    EXPECT_EQ(*parse_signal("SIGUSR2"), SIGUSR2);
    EXPECT_EQ(*parse_signal("usr2"), SIGUSR2);
    EXPECT_EQ(*parse_signal("12"), 12);
    EXPECT_EQ(*parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
    EXPECT_FALSE(parse_signal("SIGNOPE").ok());
    EXPECT_FALSE(parse_signal("0").ok());
    EXPECT_FALSE(parse_signal_list({"KILL"}).ok()) << "SIGKILL cannot be intercepted";
    auto list = parse_signal_list({"USR1", "10", "TERM"});
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(*list, (std::vector<int>{SIGUSR1, SIGTERM}));
    EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
}

TEST(MonitorOptions, ValidationAndDumpCount) {
    TriggerOptions options;
    EXPECT_FALSE(options.any());
    options.mem_above_mb = {200, 100};
    EXPECT_FALSE(options.validate().ok()) << "thresholds out of order";
    options.mem_above_mb = {100, 200, 300};
    EXPECT_TRUE(options.validate().ok());
    EXPECT_EQ(options.dumps_wanted(), 3u) << "one dump per threshold without -n";
    options.count = 2;
    options.count_given = true;
    EXPECT_EQ(options.dumps_wanted(), 2u);
    options.hang_thread = 12;
    EXPECT_FALSE(options.validate().ok()) << "--hang-thread without --hang";
    options.hang_thread.reset();
    options.crash = true;
    options.signals = {SIGSEGV};
    EXPECT_FALSE(options.validate().ok()) << "SIGSEGV both as --signal and --crash";
}

class TempFolder {
public:
    TempFolder() {
        char pattern[] = "/dev/shm/ds-monitor-unit-XXXXXX";
        path_ = ::mkdtemp(pattern);
    }
    ~TempFolder() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(CrashHandlerConfig, WrittenFileReadsBack) {
    TempFolder dir;
    CrashHandlerConfig config;
    config.output_dir = "/var/crash/ds";
    config.dump_type = "midi";
    config.keep_core = true;
    config.quota_mb = 77;
    config.compress_level = 5;
    config.previous_core_pattern = "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h";
    const std::string path = dir.path() + "/etc/crash.conf";
    ASSERT_TRUE(write_crash_config(path, config).ok());
    auto back = read_crash_config(path);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->output_dir, config.output_dir);
    EXPECT_EQ(back->dump_type, "midi");
    EXPECT_TRUE(back->keep_core);
    EXPECT_EQ(back->quota_mb, 77u);
    EXPECT_EQ(back->compress_level, 5);
    EXPECT_EQ(back->previous_core_pattern, config.previous_core_pattern);

    std::ofstream(path) << "output_dir = /x\nkeep_core = maybe\n";
    auto bad = read_crash_config(path);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find(":2:"), std::string::npos) << bad.error().message;
    std::ofstream(path) << "output_dir = relative/dir\n";
    EXPECT_FALSE(read_crash_config(path).ok());
    // A file written before compress_level existed reads as plain dumps; 20 is no zstd level.
    std::ofstream(path) << "output_dir = /x\n";
    auto old = read_crash_config(path);
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(old->compress_level, 0);
    std::ofstream(path) << "output_dir = /x\ncompress_level = 20\n";
    auto too_high = read_crash_config(path);
    ASSERT_FALSE(too_high.ok());
    EXPECT_NE(too_high.error().message.find("compress_level"), std::string::npos);
}

TEST(CorePattern, PatternFitsTheKernelLimitAndIsRecognised) {
    auto pattern = crash_handler_pattern("/usr/bin/dumpscope", kDefaultCrashConfig);
    ASSERT_TRUE(pattern.ok());
    EXPECT_EQ(*pattern, "|/usr/bin/dumpscope crash-handler collect %P %s %t %e");
    EXPECT_TRUE(is_crash_handler_pattern(*pattern));
    EXPECT_FALSE(is_crash_handler_pattern("core"));
    EXPECT_FALSE(is_crash_handler_pattern("|/usr/share/apport/apport -p%p -s%s"));
    auto custom = crash_handler_pattern("/usr/bin/dumpscope", "/etc/ds.conf");
    ASSERT_TRUE(custom.ok());
    EXPECT_NE(custom->find("--config /etc/ds.conf %P"), std::string::npos);
    EXPECT_FALSE(crash_handler_pattern("/" + std::string(120, 'd'), kDefaultCrashConfig).ok());
    EXPECT_FALSE(crash_handler_pattern("/my tools/dumpscope", kDefaultCrashConfig).ok());
}

TEST(DumpQuota, OldestGoFirstNewOnesAreKept) {
    TempFolder dir;
    auto make = [&](const std::string& name, size_t kib, int age_s) {
        const std::string path = dir.path() + "/" + name;
        std::ofstream(path) << std::string(kib * 1024, 'z');
        const timespec when[2] = {{::time(nullptr) - age_s, 0}, {::time(nullptr) - age_s, 0}};
        ::utimensat(AT_FDCWD, path.c_str(), when, 0);
    };
    make("a_crash_1.1.dmp", 400, 30);
    make("b_crash_2.2.core", 400, 20);
    make("c_crash_3.3.dmp", 400, 10);
    make("d_4.4.core.zst", 300, 25);  // compressed dumps count too
    make("notes.txt", 4000, 40);      // not a dump: never counted, never removed
    make("notes.zst", 4000, 40);
    auto outcome = enforce_dump_quota(dir.path(), 900 * 1024, {"a_crash_1.1.dmp"});
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(outcome->removed, (std::vector<std::string>{"d_4.4.core.zst", "b_crash_2.2.core"}));
    EXPECT_EQ(::access((dir.path() + "/notes.txt").c_str(), F_OK), 0);
    EXPECT_EQ(::access((dir.path() + "/notes.zst").c_str(), F_OK), 0);
    EXPECT_LE(outcome->bytes_after, 900u * 1024);
    auto usage = dump_usage(dir.path());
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(*usage, outcome->bytes_after);
}

}  // namespace
}  // namespace dumpscope
