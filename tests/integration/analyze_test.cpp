// `dumpscope analyze --json` on dumps of processes in known trouble, taken as mini and as full
// dumps: deadlocks (two locks, three locks, std::mutex, reader-writer), 001's busy lock owner,
// crashes of every class (through `collect --crash`), a CPU-burning thread, I/O waits, real
// programs (python3, bash); and a healthy process, which must get no finding at all. The facts
// checked (tids, lock addresses, owners, fault functions) come from the fixtures themselves and
// from /proc, not from dumpscope.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis_support.h"
#include "monitored_child.h"
#include "support.h"

using namespace test_support;

namespace {

constexpr int kGenerous = 60;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

std::vector<int> tids_of(pid_t pid) {
    std::vector<int> tids;
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(task.c_str());
    if (d == nullptr) return tids;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') tids.push_back(std::stoi(e->d_name));
    ::closedir(d);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::string read_proc(pid_t pid, int tid, const std::string& file) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/" + file);
    std::string text;
    std::getline(in, text);
    return text;
}

// The thread named `name`, waiting for it to take that name (threads name themselves after the
// fixture may have printed its ready line); 0 if none does.
int tid_named(pid_t pid, const std::string& name) {
    const auto deadline = TestClock::now() + std::chrono::seconds(kGenerous);
    do {
        for (int tid : tids_of(pid))
            if (read_proc(pid, tid, "comm") == name) return tid;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (TestClock::now() < deadline);
    return 0;
}

// The system call a thread sleeps in, from /proc/PID/task/TID/syscall (-1 when running).
long syscall_of(pid_t pid, int tid) {
    std::istringstream in(read_proc(pid, tid, "syscall"));
    long number = -1;
    in >> number;
    return number;
}

// Waits until each of `tids` sleeps in system call `number`, seen twice in a row.
bool wait_in_syscall(pid_t pid, const std::vector<int>& tids, long number) {
    const auto deadline = TestClock::now() + std::chrono::seconds(kGenerous);
    int settled = 0;
    while (TestClock::now() < deadline) {
        const bool all = std::all_of(tids.begin(), tids.end(), [&](int tid) {
            return syscall_of(pid, tid) == number &&
                   read_proc(pid, tid, "stat").find(") S ") != std::string::npos;
        });
        settled = all ? settled + 1 : 0;
        if (settled >= 2) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

nlohmann::json analyze(const std::vector<std::string>& dumps) {
    std::vector<std::string> argv{dumpscope_binary(), "analyze", "--json"};
    argv.insert(argv.end(), dumps.begin(), dumps.end());
    const CommandResult r = run(argv, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    try {
        return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out << r.err;
        return nlohmann::json::object();
    }
}

std::vector<nlohmann::json> findings_of(const nlohmann::json& report, const std::string& kind) {
    std::vector<nlohmann::json> out;
    for (const auto& f : report.value("findings", nlohmann::json::array()))
        if (f.at("kind") == kind) out.push_back(f);
    return out;
}

std::set<int> ints(const nlohmann::json& array) {
    std::set<int> out;
    for (const auto& v : array) out.insert(v.get<int>());
    return out;
}

uint64_t hex(const nlohmann::json& value) {
    return std::stoull(value.get<std::string>(), nullptr, 16);
}

// The lock of a finding at `address`, or null.
const nlohmann::json* lock_at(const nlohmann::json& finding, uint64_t address) {
    for (const auto& lock : finding.at("locks"))
        if (hex(lock.at("address")) == address) return &lock;
    return nullptr;
}

// Every finding of a report as "kind: summary" lines, for failure messages.
std::string describe(const nlohmann::json& report) { return report.dump(1).substr(0, 6000); }

// The findings that say something is wrong: all but the memory-usage information every dump
// holding the heap gets (docs/analyze.md).
std::vector<nlohmann::json> problems(const nlohmann::json& report) {
    std::vector<nlohmann::json> out;
    for (const auto& f : report.value("findings", nlohmann::json::array()))
        if (f.at("kind") != "memory-usage" || f.at("severity") != "info") out.push_back(f);
    return out;
}

class Analyze : public ::testing::TestWithParam<std::string> {
protected:
    std::string dump_of(pid_t pid) {
        return collect_into(dir_.path(), pid, GetParam(), "minidump");
    }

    // Checks a deadlock finding: exactly these threads, and each lock owned by the next one.
    void expect_deadlock(const nlohmann::json& report, const std::set<int>& threads,
                         const std::vector<std::pair<uint64_t, int>>& lock_owners,
                         const std::vector<std::string>& symbols) {
        const auto deadlocks = findings_of(report, "deadlock");
        ASSERT_EQ(deadlocks.size(), 1u) << describe(report);
        const auto& f = deadlocks[0];
        EXPECT_EQ(f.at("severity"), "error");
        EXPECT_EQ(ints(f.at("threads")), threads);
        ASSERT_EQ(f.at("locks").size(), lock_owners.size()) << f.dump(1);
        for (size_t i = 0; i < lock_owners.size(); ++i) {
            const auto* lock = lock_at(f, lock_owners[i].first);
            ASSERT_NE(lock, nullptr) << "no lock at " << lock_owners[i].first << ": " << f.dump(1);
            EXPECT_EQ(lock->at("owner_tid"), lock_owners[i].second) << lock->dump();
            if (i < symbols.size()) {
                EXPECT_EQ(lock->at("symbol"), symbols[i]) << lock->dump();
            }
        }
        EXPECT_EQ(report.at("findings").at(0).at("kind"), "deadlock");
        EXPECT_TRUE(findings_of(report, "crash").empty());
        EXPECT_NE(report.at("signature").get<std::string>().find("deadlock"), std::string::npos);
    }

    TempDir dir_;
};

TEST_P(Analyze, TwoLockDeadlockNamesBothThreadsAndLocks) {
    Fixture target("fixture_deadlock");
    const int ab = tid_named(target.pid(), "locker-ab");
    const int ba = tid_named(target.pid(), "locker-ba");
    ASSERT_TRUE(wait_in_syscall(target.pid(), {ab, ba}, SYS_futex));
    const auto report = analyze({dump_of(target.pid())});
    // locker-ab holds a and waits for b; locker-ba holds b and waits for a.
    expect_deadlock(report, {ab, ba},
                    {{target.address("mutex_a"), ab}, {target.address("mutex_b"), ba}},
                    {"g_mutex_a", "g_mutex_b"});
    if (HasFatalFailure()) return;  // no single deadlock finding: nothing to index
    const auto f = findings_of(report, "deadlock")[0];
    EXPECT_EQ(ints(lock_at(f, target.address("mutex_a"))->at("waiter_tids")), std::set<int>{ba});
    // The main thread's pthread_join waits behind the cycle: named there, not as a finding.
    EXPECT_EQ(ints(f.at("evidence").at("blocked_behind")), std::set<int>{target.pid()});
    EXPECT_TRUE(findings_of(report, "lock-contention").empty()) << describe(report);
}

TEST_P(Analyze, ThreeLockRing) {
    Fixture target("fixture_deadlock3");
    std::vector<int> tids = target.info().at("tids").get<std::vector<int>>();
    std::vector<uint64_t> locks = target.info().at("locks").get<std::vector<uint64_t>>();
    ASSERT_TRUE(wait_in_syscall(target.pid(), tids, SYS_futex));
    const auto report = analyze({dump_of(target.pid())});
    // Thread i holds lock i.
    expect_deadlock(report, {tids[0], tids[1], tids[2]},
                    {{locks[0], tids[0]}, {locks[1], tids[1]}, {locks[2], tids[2]}},
                    {"lock_ring_0", "lock_ring_1", "lock_ring_2"});
}

TEST_P(Analyze, StdMutexDeadlockNamesTheObjects) {
    Fixture target("fixture_deadlock_cpp");
    std::vector<int> tids = target.info().at("tids").get<std::vector<int>>();
    std::vector<uint64_t> mutexes = target.info().at("mutexes").get<std::vector<uint64_t>>();
    ASSERT_TRUE(wait_in_syscall(target.pid(), tids, SYS_futex));
    const auto report = analyze({dump_of(target.pid())});
    // Thread 0 took checking's mutex first, thread 1 savings'.
    expect_deadlock(report, {tids[0], tids[1]}, {{mutexes[0], tids[0]}, {mutexes[1], tids[1]}}, {});
    if (HasFatalFailure()) return;  // no single deadlock finding: nothing to index
    const auto f = findings_of(report, "deadlock")[0];
    std::set<std::string> symbols;
    for (const auto& lock : f.at("locks")) symbols.insert(lock.at("symbol").get<std::string>());
    EXPECT_EQ(symbols, (std::set<std::string>{"checking_account", "savings_account"}));
}

TEST_P(Analyze, ReaderWriterDeadlock) {
    Fixture target("fixture_rwdeadlock");
    const int writer = target.info().at("writer");
    const int reader = target.info().at("reader");
    ASSERT_TRUE(wait_in_syscall(target.pid(), {writer, reader}, SYS_futex));
    const auto report = analyze({dump_of(target.pid())});
    expect_deadlock(report, {writer, reader},
                    {{target.address("rwlock"), writer}, {target.address("mutex"), reader}}, {});
    if (HasFatalFailure()) return;  // no single deadlock finding: nothing to index
    const auto f = findings_of(report, "deadlock")[0];
    EXPECT_EQ(lock_at(f, target.address("rwlock"))->at("kind"), "rwlock");
    EXPECT_EQ(lock_at(f, target.address("rwlock"))->at("symbol"), "g_table_lock");
    EXPECT_EQ(lock_at(f, target.address("mutex"))->at("kind"), "mutex");
}

TEST_P(Analyze, BusyOwnerIsContentionNotDeadlock) {
    TempDir sessions;
    Fixture target("fixture_busy_owner", {sessions.path()});
    const int owner = target.info().at("owner");
    std::vector<int> workers = target.info().at("workers").get<std::vector<int>>();
    ASSERT_TRUE(wait_in_syscall(target.pid(), workers, SYS_futex));
    const auto report = analyze({dump_of(target.pid())});
    EXPECT_TRUE(findings_of(report, "deadlock").empty()) << describe(report);
    const auto contention = findings_of(report, "lock-contention");
    ASSERT_EQ(contention.size(), 1u) << describe(report);
    const auto& f = contention[0];
    EXPECT_EQ(f.at("severity"), "warning");
    const auto* lock = lock_at(f, target.address("lock"));
    ASSERT_NE(lock, nullptr) << f.dump(1);
    EXPECT_EQ(lock->at("owner_tid"), owner);
    EXPECT_EQ(lock->at("symbol"), "g_session_lock");
    EXPECT_EQ(ints(lock->at("waiter_tids")), std::set<int>(workers.begin(), workers.end()));
    // What the owner does: its state and CPU, and its stack in the scanning loop.
    const auto& busy = f.at("evidence").at("owner");
    EXPECT_EQ(busy.at("tid"), owner);
    EXPECT_NE(f.at("summary").get<std::string>().find("not a deadlock"), std::string::npos);
    bool in_scan = false;
    for (const auto& frame : busy.at("frames"))
        if (frame.at("function") == "scan_sessions_forever") in_scan = true;
    EXPECT_TRUE(in_scan) << busy.dump(1);
}

TEST_P(Analyze, HealthyProcessHasNoFindings) {
    Fixture target("fixture_healthy");
    const int ticker = tid_named(target.pid(), "ticker");
    ASSERT_TRUE(wait_in_syscall(target.pid(), {target.pid()}, SYS_pause));
    ASSERT_TRUE(wait_in_syscall(target.pid(), {ticker}, SYS_clock_nanosleep));
    const std::string dump = dump_of(target.pid());
    const auto report = analyze({dump});
    EXPECT_TRUE(problems(report).empty()) << describe(report);
    // A dump with the heap says how memory is used, as information; a mini one has no heap.
    EXPECT_EQ(findings_of(report, "memory-usage").size(), GetParam() == "mini" ? 0u : 1u);
    EXPECT_EQ(report.at("signature"), "");
    const CommandResult text = run({dumpscope_binary(), "analyze", dump});
    EXPECT_EQ(text.out.rfind("No problems found.", 0), 0u) << text.out;
}

TEST_P(Analyze, PipeReadAndEpollWaitAreNamed) {
    Fixture target("fixture_blocked_io");
    const int reader = target.info().at("reader");
    const int poller = target.info().at("poller");
    ASSERT_TRUE(wait_in_syscall(target.pid(), {reader}, SYS_read));
    ASSERT_TRUE(wait_in_syscall(target.pid(), {poller}, SYS_epoll_wait));
    const auto report = analyze({dump_of(target.pid())});
    EXPECT_TRUE(problems(report).empty()) << describe(report);  // idle is not broken
    std::map<int, nlohmann::json> waits;
    for (const auto& w : report.at("dumps").at(0).at("waits")) waits[w.at("tid")] = w;
    ASSERT_TRUE(waits.count(reader) && waits.count(poller)) << describe(report);
    EXPECT_EQ(waits[reader].at("wait"), "read");
    EXPECT_EQ(ints(waits[reader].at("fds")), std::set<int>{target.info().at("pipe_fd").get<int>()});
    EXPECT_EQ(waits[poller].at("wait"), "epoll");
    EXPECT_EQ(ints(waits[poller].at("fds")),
              std::set<int>{target.info().at("epoll_fd").get<int>()});
    if (GetParam() == "full") {  // full dumps carry the descriptor table
        EXPECT_NE(waits[reader].at("description").get<std::string>().find("pipe:["),
                  std::string::npos)
            << waits[reader];
    }
    // Threads grouped by stack: two different stacks, one thread each.
    EXPECT_EQ(report.at("dumps").at(0).at("stack_groups").size(), 2u);
}

// CPU ticks (utime + stime, fields 14 and 15 of /proc/PID/task/TID/stat).
long cpu_ticks(pid_t pid, int tid) {
    const std::string stat = read_proc(pid, tid, "stat");
    const size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos || name_end + 2 > stat.size()) return -1;
    std::istringstream fields(stat.substr(name_end + 2));
    std::string field;
    long ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i >= 14) ticks += std::stol(field);
    return ticks;
}

// Waits until the thread's CPU reaches `ticks`.
bool wait_for_cpu(pid_t pid, int tid, long ticks) {
    const auto deadline = TestClock::now() + std::chrono::seconds(kGenerous);
    while (cpu_ticks(pid, tid) < ticks) {
        if (TestClock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

TEST_P(Analyze, BurningThreadIsRunawayAndTwoDumpsGiveItsCpuBetween) {
    DrivenFixture target("fixture_burn");
    target.send("burn");
    target.read_json();
    const int burner = tid_named(target.pid(), "burner");
    ASSERT_NE(burner, 0);
    const long hz = sysconf(_SC_CLK_TCK);
    ASSERT_TRUE(wait_for_cpu(target.pid(), burner, hz)) << "the burner did not burn a second";
    const std::string first = collect_into(dir_.path(), target.pid(), GetParam(), "minidump");
    const time_t first_time = ::time(nullptr);
    const auto report = analyze({first});
    const auto runaway = findings_of(report, "runaway-thread");
    ASSERT_EQ(runaway.size(), 1u) << describe(report);
    EXPECT_EQ(ints(runaway[0].at("threads")), std::set<int>{burner});
    EXPECT_EQ(report.at("dumps").at(0).at("thread_cpu").at(0).at("tid"), burner);  // top first

    // A second dump once it burnt 0.6 s more and the clock (capture times are in whole seconds)
    // moved on: the CPU it used between them.
    ASSERT_TRUE(wait_for_cpu(target.pid(), burner, cpu_ticks(target.pid(), burner) + hz * 6 / 10));
    while (::time(nullptr) <= first_time)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string second =
        collect_into(dir_.path(), target.pid(), GetParam() == "mini" ? "full" : "mini", "minidump");
    const auto both = analyze({first, second});
    bool found_between = false;
    for (const auto& f : findings_of(both, "runaway-thread")) {
        if (!f.at("evidence").contains("between")) continue;
        found_between = true;
        EXPECT_EQ(ints(f.at("threads")), std::set<int>{burner});
        EXPECT_GE(f.at("evidence").at("cpu_ns").get<uint64_t>(), 500000000u);
    }
    EXPECT_TRUE(found_between) << describe(both);
}

// Crashes: the fixture is dumped by `collect --crash` at its fault.
struct CrashCase {
    std::string fixture;
    std::string argument;
    std::string signal;
    std::string cls;
    std::string access;        // "" when not checked
    std::string message_part;  // "" when not checked
    std::string function;      // the first own frame
    uint64_t address = 0;      // the crash address; 0 when not checked
};

// A crash dump and what the fixture said about itself before crashing.
struct CrashDump {
    std::string path;
    nlohmann::json info;  // the fixture's ready line
    pid_t pid = 0;        // its main thread, the one that crashes
    nlohmann::json report;
};

// The function names of the first `count` frames of each thread as lldb walks the dump (only
// those: a stack overflow has thousands of frames).
Stacks lldb_top_frames(const std::string& dir, const std::string& dump, int count) {
    const std::string script = write_script(
        dir, "lldb_top_frames.py",
        "import lldb\n"
        "for t in lldb.process:\n"
        "    names = []\n"
        "    for i in range(" +
            std::to_string(count) +
            "):\n"
            "        f = t.GetFrameAtIndex(i)\n"
            "        if not f.IsValid(): break\n"
            "        names.append('normal:' + str(f.GetFunctionName()).replace(' ', ''))\n"
            "    print('THREAD %d %s' % (t.GetThreadID(), ' '.join(names)))\n");
    const CommandResult r = run({lldb_binary(), "--no-lldbinit", "-b", "-c", dump, "-o",
                                 "script exec(open('" + script + "').read())"},
                                300);
    return parse_thread_lines(r.out);
}

std::string without_parameters(const std::string& function) {
    return function.substr(0, function.find('('));
}

class AnalyzeCrash : public ::testing::TestWithParam<std::tuple<std::string, CrashCase>> {
protected:
    CrashDump crash_dump(const CrashCase& c, const std::string& type) {
        CrashDump out;
        DrivenFixture target(c.fixture, c.argument.empty() ? std::vector<std::string>{}
                                                           : std::vector<std::string>{c.argument});
        out.info = target.info();
        out.pid = target.pid();
        BackgroundCommand command({dumpscope_binary(), "collect", "--type", type, "--crash",
                                   std::to_string(target.pid()), dir_.path()},
                                  logs_.path());
        EXPECT_TRUE(command.wait_for_output("monitoring", kGenerous)) << command.err();
        target.send("go");
        EXPECT_TRUE(target.wait_exit(kGenerous).has_value());
        EXPECT_EQ(command.wait(kGenerous), 0) << command.out() << command.err();
        for (const auto& name : dir_.files())
            if (name.size() > 4 && name.substr(name.size() - 4) == ".dmp" && name[0] != '.')
                out.path = dir_.path() + "/" + name;
        if (out.path.empty()) {
            ADD_FAILURE() << "no dump written";
            out.report = nlohmann::json::object();
            return out;
        }
        out.report = analyze({out.path});
        return out;
    }
    TempDir dir_;
    TempDir logs_;
};

TEST_P(AnalyzeCrash, ClassFrameAndSignature) {
    const auto& [type, c] = GetParam();
    const CrashDump dump = crash_dump(c, type);
    const auto& report = dump.report;
    const auto crashes = findings_of(report, "crash");
    ASSERT_EQ(crashes.size(), 1u) << describe(report);
    const auto& crash = crashes[0].at("crash");
    EXPECT_EQ(report.at("findings").at(0).at("kind"), "crash");
    EXPECT_EQ(crash.at("signal"), c.signal);
    EXPECT_EQ(crash.at("class"), c.cls) << crash.dump(1);
    EXPECT_EQ(crash.at("crashing_thread"), dump.pid) << crash.dump(1);
    EXPECT_EQ(ints(crashes[0].at("threads")), std::set<int>{dump.pid});
    if (!c.access.empty()) {
        EXPECT_EQ(crash.at("access"), c.access) << crash.dump(1);
    }
    const std::string message = crash.at("message");
    if (!c.message_part.empty()) {
        EXPECT_NE(message.find(c.message_part), std::string::npos) << crash.dump(1);
    }
    if (c.address != 0) {
        EXPECT_EQ(hex(crash.at("address")), c.address) << crash.dump(1);
    }
    // What the fixture knows about its crash: the file it truncated, the exception it threw.
    if (dump.info.contains("mapped_file")) {
        EXPECT_NE(message.find(dump.info.at("mapped_file").get<std::string>()), std::string::npos)
            << crash.dump(1);
    }
    if (dump.info.contains("exception_type")) {
        const auto& evidence = crashes[0].at("evidence");
        ASSERT_TRUE(evidence.contains("exception")) << evidence.dump(1);
        EXPECT_EQ(evidence.at("exception").at("type"), dump.info.at("exception_type"));
        // what() needs the type_info's base classes (the program's data): not in a mini dump.
        const std::string what = evidence.at("exception").at("what");
        if (type == "full" || !what.empty()) {
            EXPECT_EQ(what, dump.info.at("what"));
            EXPECT_NE(message.find(dump.info.at("what").get<std::string>()), std::string::npos)
                << crash.dump(1);
        }
    }
    ASSERT_TRUE(crash.at("frame").is_object()) << crash.dump(1);
    EXPECT_EQ(crash.at("frame").at("function"), c.function) << crash.dump(1);
    const std::string signature = report.at("signature");
    EXPECT_NE(signature.find(without_parameters(c.function)), std::string::npos) << signature;
    for (const char* noise : {"raise", "abort", "__assert_fail", "__pthread_kill"})
        EXPECT_EQ(signature.find(noise), std::string::npos) << signature;
    // lldb, reading the same minidump, finds the crashing thread in the same function.
    if (have_program(lldb_binary())) {
        const Stacks lldb = lldb_top_frames(dir_.path(), dump.path, 16);
        ASSERT_TRUE(lldb.count(dump.pid)) << "lldb lists no thread " << dump.pid;
        bool found = false;
        for (const NamedFrame& f : lldb.at(dump.pid))
            if (without_parameters(f.name) == without_parameters(c.function)) found = true;
        EXPECT_TRUE(found) << "lldb:" << test_support::describe(lldb.at(dump.pid));
    }
}

std::string crash_name(const ::testing::TestParamInfo<AnalyzeCrash::ParamType>& info) {
    std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param).cls + "_" +
                       std::get<1>(info.param).argument;
    for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(
    Types, AnalyzeCrash,
    ::testing::Combine(
        ::testing::Values("mini", "full"),
        ::testing::Values(
            CrashCase{"fixture_nullptr", "", "SIGSEGV", "null-dereference", "read", "",
                      "print_through_null_b(B*)"},
            CrashCase{"fixture_crash_kinds", "null-read", "SIGSEGV", "null-dereference", "read",
                      "offset 0x8", "read_through_null"},
            CrashCase{"fixture_crash_kinds", "null-write", "SIGSEGV", "null-dereference", "write",
                      "", "write_through_null"},
            CrashCase{"fixture_crash_kinds", "null-call", "SIGSEGV", "null-dereference", "call", "",
                      "call_through_null"},
            CrashCase{"fixture_crash_kinds", "stack-overflow", "SIGSEGV", "stack-overflow", "", "",
                      "recurse_forever"},
            CrashCase{"fixture_crash_kinds", "assert", "SIGABRT", "assertion-failure", "",
                      "Assertion `balance >= 0' failed", "check_invariant"},
            CrashCase{"fixture_crash_kinds", "double-free", "SIGABRT", "abort", "", "double free",
                      "free_twice"},
            CrashCase{"fixture_divzero", "", "SIGFPE", "divide-by-zero", "", "", "divide_by_zero"},
            // __stack_chk_fail's abort: glibc's message, and the function whose canary broke.
            CrashCase{"fixture_crash_kinds", "stack-smash", "SIGABRT", "abort", "",
                      "stack smashing detected", "smash_stack"},
            CrashCase{"fixture_crash_kinds", "bus-error", "SIGBUS", "bus-error", "",
                      "beyond the end of the file", "read_truncated_file"},
            CrashCase{"fixture_crash_kinds", "illegal-instruction", "SIGILL", "illegal-instruction",
                      "", "ud2", "trap_here"},
            // A general-protection fault: the kernel gives no address, the operand does.
            CrashCase{"fixture_crash_kinds", "non-canonical", "SIGSEGV", "non-canonical-address",
                      "read", "0x4141414141414149", "read_through_wild_pointer",
                      0x4141414141414149},
            CrashCase{"fixture_uncaught", "", "SIGABRT", "uncaught-exception", "",
                      "uncaught exception of type ConfigError", "load_config()"})),
    crash_name);

INSTANTIATE_TEST_SUITE_P(Types, Analyze, ::testing::Values("mini", "full"));

// Real programs.
class AnalyzeRealPrograms : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir_;
};

TEST_P(AnalyzeRealPrograms, BashWaitingOnItsChild) {
    if (!have_program("/bin/bash")) GTEST_SKIP() << "no /bin/bash";
    Program bash(
        {"/bin/bash", "-c", "sleep 1000 & echo \"{\\\"pid\\\": $$, \\\"child\\\": $!}\"; wait $!"});
    const pid_t child = bash.info().at("child");
    struct KillChild {
        pid_t pid;
        ~KillChild() { ::kill(pid, SIGKILL); }
    } kill_child{child};
    ASSERT_TRUE(wait_in_syscall(bash.pid(), {bash.pid()}, SYS_wait4));
    const auto report = analyze({collect_into(dir_.path(), bash.pid(), GetParam(), "minidump")});
    EXPECT_TRUE(problems(report).empty()) << describe(report);
    const auto& wait = report.at("dumps").at(0).at("waits").at(0);
    EXPECT_EQ(wait.at("tid"), bash.pid());
    EXPECT_EQ(wait.at("wait"), "waitpid") << wait;
    EXPECT_TRUE(wait.at("child_pid") == -1 || wait.at("child_pid") == child) << wait;
}

// Two CPython threads each holding the threading.Lock the other one wants; the main thread either
// joins them or sleeps (`main`: the last line of the script).
std::string python_lock_cycle(const std::string& main) {
    return "import threading, os, time\n"
           "a, b = threading.Lock(), threading.Lock()\n"
           "both = threading.Barrier(2)\n"
           "def one():\n"
           "    with a:\n"
           "        both.wait()\n"
           "        with b: pass\n"
           "def two():\n"
           "    with b:\n"
           "        both.wait()\n"
           "        with a: pass\n"
           "ts = [threading.Thread(target=one), threading.Thread(target=two)]\n"
           "[t.start() for t in ts]\n"
           "print('{\"pid\": %d}' % os.getpid(), flush=True)\n" +
           main + "\n";
}

// The futex word a thread sleeps on, as the kernel says (/proc/PID/task/TID/syscall: the number,
// then the arguments in hex).
std::string futex_word_of(pid_t pid, int tid) {
    std::istringstream in(read_proc(pid, tid, "syscall"));
    long number = 0;
    std::string word;
    in >> number >> word;
    return number == SYS_futex ? word : "";
}

// The semaphore waits of `report`'s first dump by tid, checked against the kernel's futex words.
void expect_semaphore_waits(const nlohmann::json& report, pid_t pid, const std::vector<int>& tids) {
    std::map<int, nlohmann::json> waits;
    for (const auto& w : report.at("dumps").at(0).at("waits")) waits[w.at("tid")] = w;
    for (int tid : tids) {
        ASSERT_TRUE(waits.count(tid)) << describe(report);
        const auto& w = waits[tid];
        EXPECT_EQ(w.at("syscall"), "futex") << w;
        EXPECT_EQ(w.at("wait"), "semaphore") << w;
        EXPECT_EQ(w.at("futex"), futex_word_of(pid, tid)) << w;
        EXPECT_EQ(w.at("no_timeout"), true) << w;
        const std::string text = w.at("description");
        EXPECT_NE(text.find("a CPython lock"), std::string::npos) << text;
        EXPECT_NE(text.find("records no holder"), std::string::npos) << text;
    }
}

// CPython's threading.Lock is a POSIX semaphore: it records no owner, so lock owners cannot name
// this deadlock and no deadlock or contention may be invented. With the main thread joining, every
// thread waits forever on a futex of the process: that is a hang, and an error.
TEST_P(AnalyzeRealPrograms, PythonDeadlockWithAllThreadsWaitingIsAHang) {
    if (!have_program("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
    Program python({"/usr/bin/python3", "-c", python_lock_cycle("[t.join() for t in ts]")});
    std::vector<int> tids = tids_of(python.pid());
    ASSERT_EQ(tids.size(), 3u);
    ASSERT_TRUE(wait_in_syscall(python.pid(), tids, SYS_futex));
    const auto report = analyze({collect_into(dir_.path(), python.pid(), GetParam(), "minidump")});
    EXPECT_TRUE(findings_of(report, "crash").empty()) << describe(report);
    EXPECT_TRUE(findings_of(report, "deadlock").empty()) << describe(report);
    EXPECT_TRUE(findings_of(report, "lock-contention").empty()) << describe(report);
    // CPython's objects live in its own arenas (anonymous memory, roots of the mark pass): none
    // of the glibc chunks they point to may look lost.
    EXPECT_TRUE(findings_of(report, "leak-suspect").empty()) << describe(report);
    const auto hangs = findings_of(report, "hang");
    ASSERT_EQ(hangs.size(), 1u) << describe(report);
    EXPECT_EQ(hangs[0].at("severity"), "error");
    EXPECT_EQ(ints(hangs[0].at("threads")), std::set<int>(tids.begin(), tids.end()));
    EXPECT_EQ(report.at("dumps").at(0).at("waits").size(), 3u);
    expect_semaphore_waits(report, python.pid(), tids);  // join waits on the thread's lock too
}

// The same cycle with the main thread in time.sleep: the process may still move, so nothing is
// proven; the two threads on two holder-less locks are said, as information, not "no problems".
TEST_P(AnalyzeRealPrograms, PythonLockCycleBesideASleeperIsSaidNotProven) {
    if (!have_program("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
    Program python({"/usr/bin/python3", "-c", python_lock_cycle("time.sleep(1000)")});
    std::vector<int> tids = tids_of(python.pid());
    ASSERT_EQ(tids.size(), 3u);
    const std::vector<int> lockers(tids.begin() + 1, tids.end());  // the main thread is the pid
    ASSERT_EQ(tids[0], python.pid());
    ASSERT_TRUE(wait_in_syscall(python.pid(), lockers, SYS_futex));
    ASSERT_TRUE(wait_in_syscall(python.pid(), {python.pid()}, SYS_clock_nanosleep));
    const std::string dump = collect_into(dir_.path(), python.pid(), GetParam(), "minidump");
    const auto report = analyze({dump});
    for (const auto& f : report.at("findings"))
        EXPECT_EQ(f.at("severity"), "info") << describe(report);  // nothing claimed wrong
    const auto hangs = findings_of(report, "hang");
    ASSERT_EQ(hangs.size(), 1u) << describe(report);
    EXPECT_EQ(ints(hangs[0].at("threads")), std::set<int>(lockers.begin(), lockers.end()));
    std::set<std::string> words;
    for (const auto& w : hangs[0].at("evidence").at("waits")) words.insert(w.at("futex"));
    EXPECT_EQ(words.size(), 2u) << hangs[0].dump(1);
    expect_semaphore_waits(report, python.pid(), lockers);
    const CommandResult text = run({dumpscope_binary(), "analyze", dump});
    EXPECT_EQ(text.out.rfind("No problem proven.", 0), 0u) << text.out;
}

INSTANTIATE_TEST_SUITE_P(Types, AnalyzeRealPrograms, ::testing::Values("mini", "full"));

}  // namespace
