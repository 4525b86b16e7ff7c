// dumpscope collect --clone: the dump equals a plain dump of the stopped process, the target
// feels only the short pause, and no clone is ever left behind - after a normal run, after
// SIGKILL of dumpscope at any step, after the target exits. Fallbacks: seccomp, memory.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "dump_compare.h"
#include "live/clone_reaper.h"
#include "support.h"

using namespace test_support;

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kDataMarker = 0xD47A5E6D47A5E6D4ull;
constexpr uint64_t kHeapMarker = 0x4EA94EA94EA94EA9ull;
constexpr uint64_t kSeccompMarker = 0x5ECC0495ECC04950ull;
constexpr uint64_t kDontForkMarker = 0xD0D0F0F0D0D0F0F0ull;
constexpr uint64_t kWipeOnForkMarker = 0x3199E0FF3199E0FFull;

// fixture_waiters with glibc's rseq registration off: the kernel rewrites a thread's rseq cpu
// fields whenever it is scheduled, so two dumps taken at different moments would differ there.
std::unique_ptr<Fixture> still_waiters() {
    ::setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);
    auto fixture = std::make_unique<Fixture>("fixture_waiters");
    ::unsetenv("GLIBC_TUNABLES");
    return fixture;
}

CommandResult collect(const std::vector<std::string>& options, pid_t pid, const std::string& out) {
    std::vector<std::string> argv = {dumpscope_binary(), "collect"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(std::to_string(pid));
    argv.push_back(out);
    return run(argv, 300);
}

std::string field(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key + ":", 0) == 0)
            return line.substr(line.find_first_not_of(" \t", key.size() + 1));
    }
    return "";
}

#if DUMPSCOPE_TEST_HOOKS
// dumpscope's clone reaper for `target` (dumpscope --internal-clone-reaper FD TARGET ...) runs.
// Only the injection-step test (test hooks on) looks for it.
bool reaper_running(pid_t target) {
    DIR* proc = ::opendir("/proc");
    bool found = false;
    while (dirent* entry = proc ? ::readdir(proc) : nullptr) {
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::vector<std::string> args;
        std::istringstream parts(cmdline);
        for (std::string arg; std::getline(parts, arg, '\0');) args.push_back(arg);
        if (args.size() > 3 && args[1] == "--internal-clone-reaper" &&
            args[3] == std::to_string(target)) {
            found = true;
        }
    }
    if (proc) ::closedir(proc);
    return found;
}
#endif  // DUMPSCOPE_TEST_HOOKS

// A process that still exists and is not a zombie.
bool alive(pid_t pid) {
    const std::string state = field("/proc/" + std::to_string(pid) + "/status", "State");
    return !state.empty() && state[0] != 'Z' && state[0] != 'X';
}

// "target paused 41 ms (clone), dump written in 3.2 s" -> 41.
double reported_pause_ms(const std::string& out) {
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"(target paused ([0-9.]+) (ms|s) \((\w+)\))"))) {
        return -1;
    }
    return std::stod(m[1]) * (m[2] == "s" ? 1000 : 1);
}

std::vector<std::string> notes(const std::string& dump) {
    std::vector<std::string> out;
    const nlohmann::json info = info_json(dump);
    for (const auto& n : info.at("capture").at("notes")) out.push_back(n.get<std::string>());
    return out;
}

::testing::AssertionResult any_note(const std::string& dump, const std::string& a,
                                    const std::string& b = "") {
    std::string all;
    for (const std::string& n : notes(dump)) {
        if (n.find(a) != std::string::npos && n.find(b) != std::string::npos) {
            return ::testing::AssertionSuccess();
        }
        all += "\n  " + n;
    }
    return ::testing::AssertionFailure()
           << "no note with \"" << a << "\" and \"" << b << "\" among:" << all;
}

void expect_same_dump(const std::string& plain_path, const std::string& clone_path) {
    const DecodedDump plain = decode_dump(read_file(plain_path));
    const DecodedDump clone = decode_dump(read_file(clone_path));
    ASSERT_FALSE(plain.threads.empty());
    EXPECT_EQ(plain.threads.size(), clone.threads.size());
    for (const auto& [tid, context] : plain.threads) {
        ASSERT_EQ(clone.threads.count(tid), 1u) << "thread " << tid;
        EXPECT_EQ(clone.threads.at(tid), context) << "registers of thread " << tid;
    }
    EXPECT_EQ(plain.modules, clone.modules);
    // A clone dump reads the modules and fds after the target resumed (the fds through the
    // table the clone shares): the same lists as a dump that read them while it was stopped.
    const CommandResult plain_fds = run({dumpscope_binary(), "handles", plain_path});
    const CommandResult clone_fds = run({dumpscope_binary(), "handles", clone_path});
    EXPECT_EQ(plain_fds.exit_code, 0) << plain_fds.err;
    EXPECT_NE(plain_fds.out.find(" descriptors"), std::string::npos) << plain_fds.out;
    EXPECT_EQ(plain_fds.out, clone_fds.out);
    const MemoryComparison memory = compare_memory(plain, clone);
    EXPECT_GT(memory.compared, 1u << 20);
    EXPECT_EQ(memory.different, 0u) << std::hex << "first at 0x" << memory.first_difference;
}

// A fixture_memory_hog's heartbeat, read from outside: its last stamp, beat count and the
// longest time between two beats, all kept by its heartbeat thread (so gaps and rates are the
// ones the target felt, not lengthened by this test waiting for a CPU on a busy machine).
class Heartbeat {
public:
    explicit Heartbeat(const Fixture& target)
        : pid_(target.pid()),
          stamp_(target.address("heartbeat")),
          count_(target.address("heartbeat_count")),
          max_gap_(target.address("heartbeat_max_gap_ns")) {}
    uint64_t beats() const { return read(count_); }
    double max_gap_ms() const { return static_cast<double>(read(max_gap_)) / 1e6; }
    // Starts a new measure of the longest gap.
    void reset_max_gap() const {
        uint64_t zero = 0;
        iovec local{&zero, sizeof zero};
        iovec remote{reinterpret_cast<void*>(max_gap_), sizeof zero};
        if (::process_vm_writev(pid_, &local, 1, &remote, 1, 0) != sizeof zero)
            throw std::runtime_error("cannot write the heartbeat's longest gap");
    }
    // Waits until the count has gone `more` beats past `since` (false after `seconds`).
    bool wait_for_beats(uint64_t since, uint64_t more, int seconds = 60) const {
        const auto deadline = Clock::now() + std::chrono::seconds(seconds);
        while (beats() < since + more && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return beats() >= since + more;
    }
    // Beats per millisecond over its next `beats` beats, in its own time (0 if it stopped): about
    // 1 on an idle machine (1 ms sleeps), less when its thread waits for a CPU.
    double rate_per_ms(uint64_t beats) const {
        if (!wait_for_beats(0, 1)) return 0;  // the first stamp is in place
        const uint64_t count = this->beats(), stamp = read(stamp_);
        if (!wait_for_beats(count, beats)) return 0;
        const double ms = static_cast<double>(read(stamp_) - stamp) / 1e6;
        return ms > 0 ? static_cast<double>(this->beats() - count) / ms : 0;
    }

private:
    uint64_t read(uint64_t address) const {
        uint64_t value = 0;
        iovec local{&value, sizeof value};
        iovec remote{reinterpret_cast<void*>(address), sizeof value};
        if (::process_vm_readv(pid_, &local, 1, &remote, 1, 0) != sizeof value)
            throw std::runtime_error("cannot read the heartbeat of " + std::to_string(pid_));
        return value;
    }
    pid_t pid_;
    uint64_t stamp_, count_, max_gap_;
};

// dumpscope in the background with extra environment; stderr is read as it comes.
class BackgroundDumpscope {
public:
    BackgroundDumpscope(const std::vector<std::string>& args, const std::string& env = "") {
        int err[2];
        if (::pipe(err) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(err[1], 2);
            ::close(err[0]);
            if (!env.empty()) ::putenv(const_cast<char*>(env.c_str()));
            std::vector<std::string> all = {dumpscope_binary()};
            all.insert(all.end(), args.begin(), args.end());
            std::vector<char*> argv;
            for (auto& a : all) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(err[1]);
        err_ = err[0];
    }
    ~BackgroundDumpscope() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(err_);
    }
    bool stderr_shows(const std::string& text, int seconds) {
        const auto deadline = Clock::now() + std::chrono::seconds(seconds);
        std::string seen;
        while (seen.find(text) == std::string::npos && Clock::now() < deadline) {
            char buf[512];
            const ssize_t n = ::read(err_, buf, sizeof buf);
            if (n <= 0) return false;
            seen.append(buf, static_cast<size_t>(n));
        }
        return seen.find(text) != std::string::npos;
    }
    void kill_hard() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int err_ = -1;
};

// Waits until dumpscope's temporary file has some bytes: the target was cloned and resumed.
bool dump_under_way(const TempDir& dir, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
        for (const std::string& f : dir.files()) {
            struct stat st {};
            if (f.rfind(".dumpscope-tmp.", 0) == 0 &&
                ::stat((dir.path() + "/" + f).c_str(), &st) == 0 && st.st_size > (1 << 20)) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

TEST(CloneDump, MinidumpEqualsPlainDumpInThreadsRegistersModulesAndMemory) {
    auto target = still_waiters();
    TempDir dir;
    ASSERT_EQ(
        collect({"--quiet", "--type", "full"}, target->pid(), dir.path() + "/plain.dmp").exit_code,
        0);
    CommandResult r =
        collect({"--clone", "--type", "full"}, target->pid(), dir.path() + "/clone.dmp");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(reported_pause_ms(r.out), 0) << r.out;
    EXPECT_NE(r.out.find("(clone)"), std::string::npos) << r.out;
    EXPECT_EQ(info_json(dir.path() + "/clone.dmp").at("capture").at("method"), "clone");
    expect_same_dump(dir.path() + "/plain.dmp", dir.path() + "/clone.dmp");
    // The injecting thread was put back exactly: a plain dump afterwards is the same again.
    ASSERT_EQ(
        collect({"--quiet", "--type", "full"}, target->pid(), dir.path() + "/after.dmp").exit_code,
        0);
    expect_same_dump(dir.path() + "/plain.dmp", dir.path() + "/after.dmp");
    EXPECT_TRUE(eventually_running(target->pid()));
    EXPECT_TRUE(children_of(target->pid()).empty());
}

// The reaper's start-up (loading dumpscope again) must be over before the target is stopped,
// or it competes with the target for the CPUs during the pause: spawn() returns only once the
// reaper's main() has run, which closes the descriptor it was given to say so (fd 4).
TEST(CloneReaper, HasStartedWhenSpawnReturns) {
    auto target = still_waiters();
    auto reaper = dumpscope::CloneReaper::spawn(target->pid(), dumpscope_binary());
    ASSERT_TRUE(reaper.ok()) << reaper.error().message;
    pid_t reaper_pid = 0;
    for (pid_t child : children_of(::getpid())) {
        std::ifstream cmdline("/proc/" + std::to_string(child) + "/cmdline");
        const std::string args((std::istreambuf_iterator<char>(cmdline)), {});
        if (args.find(dumpscope::kCloneReaperArg) != std::string::npos) reaper_pid = child;
    }
    ASSERT_NE(reaper_pid, 0) << "no reaper among our children";
    const std::string fd_dir = "/proc/" + std::to_string(reaper_pid) + "/fd/";
    struct stat st {};
    EXPECT_EQ(::stat((fd_dir + "3").c_str(), &st), 0) << "the report pipe is open";
    EXPECT_NE(::stat((fd_dir + "4").c_str(), &st), 0) << "the start-up descriptor is closed";
    EXPECT_TRUE(reaper->finish());  // nothing was injected: it exits at once, successfully
}

TEST(CloneDump, CoreEqualsPlainCore) {
    auto target = still_waiters();
    TempDir dir;
    ASSERT_EQ(collect({"--quiet", "--format", "core", "--type", "full"}, target->pid(),
                      dir.path() + "/plain.core")
                  .exit_code,
              0);
    CommandResult r = collect({"--quiet", "--clone=required", "--format", "core", "--type", "full"},
                              target->pid(), dir.path() + "/clone.core");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_dump(dir.path() + "/plain.core", dir.path() + "/clone.core");
}

TEST(CloneDump, EveryPresetKeepsItsContents) {
    auto target = still_waiters();
    TempDir dir;
    const uint64_t heap = target->address("heap_marker_address");
    const uint64_t data = target->address("data_marker_address");
    for (const char* type : {"tiny", "mini", "midi", "full"}) {
        const std::string path = dir.path() + "/" + type + ".dmp";
        CommandResult r =
            collect({"--quiet", "--clone=required", "--type", type}, target->pid(), path);
        ASSERT_EQ(r.exit_code, 0) << type << ": " << r.err;
        const auto bytes = read_file(path);
        const bool has_heap = std::string(type) != "tiny";
        const bool has_data = std::string(type) == "midi" || std::string(type) == "full";
        EXPECT_EQ(dump_read_u64(bytes, heap) == kHeapMarker, has_heap) << type;
        EXPECT_EQ(dump_read_u64(bytes, data) == kDataMarker, has_data) << type;
        EXPECT_EQ(info_json(path).at("capture").at("method"), "clone") << type;
    }
    EXPECT_TRUE(children_of(target->pid()).empty());
}

TEST(CloneDump, HeartbeatStopsNoLongerThanTheReportedPause) {
    Fixture target("fixture_memory_hog", {"768"});
    TempDir dir("/dev/shm");
    const Heartbeat heart(target);
    // Its pace on this machine now, without a dump.
    const double rate = heart.rate_per_ms(200);
    ASSERT_GT(rate, 0) << "the heartbeat does not beat";
    heart.reset_max_gap();
    const uint64_t beats_before = heart.beats();
    const auto started = Clock::now();
    CommandResult r = collect({"--clone", "--type", "full"}, target.pid(), dir.path() + "/hog.dmp");
    const double wall_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    const uint64_t beats_during = heart.beats() - beats_before;
    // A gap is recorded by the beat that ends it: wait for a few more.
    ASSERT_TRUE(heart.wait_for_beats(heart.beats(), 5)) << "the heartbeat stopped after the dump";
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const double pause = reported_pause_ms(r.out);
    ASSERT_GT(pause, 0) << r.out;
    // Generous: the heartbeat thread may also wait for a CPU on a busy machine.
    EXPECT_LE(heart.max_gap_ms(), pause + 150) << "reported " << pause << " ms";
    // It kept beating while the dump was written (at its pace without a dump, about one beat a
    // ms; half of them is plenty).
    EXPECT_GE(static_cast<double>(beats_during), rate * (wall_ms - pause) / 2)
        << "wall " << wall_ms << " ms, " << rate << " beats per ms without a dump";
    EXPECT_TRUE(eventually_childless(target.pid()));
}

TEST(CloneDump, NoCloneLeftAfterSigkillMidWrite) {
    Fixture target("fixture_memory_hog", {"1536"});
    TempDir dir("/dev/shm");
    BackgroundDumpscope dumper({"collect", "--clone=required", "--type", "full",
                                std::to_string(target.pid()), dir.path()});
    ASSERT_TRUE(dump_under_way(dir));
    const std::vector<pid_t> clones = children_of(target.pid());
    ASSERT_EQ(clones.size(), 1u) << "the clone exists while the dump is written";
    dumper.kill_hard();
    EXPECT_TRUE(eventually_childless(target.pid()));
    EXPECT_FALSE(alive(clones[0]));
    EXPECT_TRUE(eventually_running(target.pid()));
    const Heartbeat heart(target);
    EXPECT_TRUE(heart.wait_for_beats(heart.beats(), 51)) << "the target does not run on";
}

TEST(CloneDump, TargetExitingMidDumpStillGivesTheDumpAndLeavesNoClone) {
    auto target = std::make_unique<Fixture>("fixture_memory_hog", std::vector<std::string>{"1536"});
    TempDir dir("/dev/shm");
    BackgroundDumpscope dumper({"collect", "--quiet", "--clone=required", "--type", "full",
                                std::to_string(target->pid()), dir.path() + "/hog.dmp"});
    ASSERT_TRUE(dump_under_way(dir));
    const std::vector<pid_t> clones = children_of(target->pid());
    ASSERT_EQ(clones.size(), 1u);
    target.reset();  // SIGKILL and reap the target; its clone is reparented
    // The clone holds the memory of the moment of the pause: the dump completes.
    EXPECT_EQ(dumper.wait(), 0);
    EXPECT_EQ(info_json(dir.path() + "/hog.dmp").at("capture").at("method"), "clone");
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (alive(clones[0]) && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_FALSE(alive(clones[0]));
}

// DUMPSCOPE_TEST_STALL stops dumpscope at one step of the injection (src/live/test_stall.h). The
// hook exists only in builds configured with -DDUMPSCOPE_TEST_HOOKS=ON (make, make test, CI).
#if DUMPSCOPE_TEST_HOOKS
TEST(CloneDump, SigkillAtEveryInjectionStepLeavesTargetAsItWas) {
    auto target = still_waiters();
    TempDir dir;
    ASSERT_EQ(
        collect({"--quiet", "--type", "full"}, target->pid(), dir.path() + "/before.dmp").exit_code,
        0);
    int n = 0;
    for (const char* step : {"injected", "syscall-entry", "clone-created", "syscall-exit"}) {
        BackgroundDumpscope dumper({"collect", "--clone=required", "--type", "full",
                                    std::to_string(target->pid()), dir.path() + "/x.dmp"},
                                   std::string("DUMPSCOPE_TEST_STALL=") + step);
        ASSERT_TRUE(dumper.stderr_shows(std::string("stalled at ") + step, 60)) << step;
        dumper.kill_hard();
        EXPECT_TRUE(eventually_childless(target->pid())) << step;
        EXPECT_TRUE(eventually_running(target->pid())) << step;
        // The reaper also puts the injection site's bytes back.
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        while (reaper_running(target->pid()) && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        EXPECT_FALSE(reaper_running(target->pid())) << step;
        const std::string after = dir.path() + "/after" + std::to_string(n++) + ".dmp";
        CommandResult r = collect({"--quiet", "--type", "full"}, target->pid(), after);
        ASSERT_EQ(r.exit_code, 0) << step << ": " << r.err;
        SCOPED_TRACE(step);
        expect_same_dump(dir.path() + "/before.dmp", after);
    }
}
#endif  // DUMPSCOPE_TEST_HOOKS

TEST(CloneDump, SeccompFilterIsSuspendedForTheCloneWithCapSysAdmin) {
    Fixture target("fixture_seccomp_nofork");
    ASSERT_EQ(target.info().at("fork_errno").get<int>(), EPERM) << "the filter forbids fork";
    TempDir dir;
    const std::string path = dir.path() + "/seccomp.dmp";
    CommandResult r =
        collect({"--quiet", "--clone=required", "--type", "full"}, target.pid(), path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(info_json(path).at("capture").at("method"), "clone");
    EXPECT_TRUE(any_note(path, "seccomp filter", "suspended"));
    EXPECT_EQ(dump_read_u64(read_file(path), target.address("marker_address")), kSeccompMarker);
    EXPECT_EQ(field("/proc/" + std::to_string(target.pid()) + "/status", "Seccomp"), "2");
    EXPECT_TRUE(eventually_childless(target.pid()));
}

TEST(CloneDump, SeccompFilterWithoutCapSysAdminFallsBackOrFailsWhenRequired) {
    if (!have_program("setpriv")) GTEST_SKIP() << "setpriv missing";
    Fixture target("fixture_seccomp_nofork");
    TempDir dir;
    const std::vector<std::string> drop = {"setpriv",
                                           "--inh-caps=-sys_admin",
                                           "--bounding-set=-sys_admin",
                                           dumpscope_binary(),
                                           "collect",
                                           "--type",
                                           "full"};
    auto run_without_admin = [&](const std::string& clone, const std::string& out) {
        std::vector<std::string> argv = drop;
        argv.insert(argv.end(), {clone, std::to_string(target.pid()), out});
        return run(argv, 120);
    };
    const std::string path = dir.path() + "/fallback.dmp";
    CommandResult r = run_without_admin("--clone", path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("no clone ("), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("seccomp"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("(ptrace)"), std::string::npos) << r.out;
    EXPECT_EQ(info_json(path).at("capture").at("method"), "ptrace");
    EXPECT_TRUE(any_note(path, "no clone", "seccomp"));
    EXPECT_EQ(dump_read_u64(read_file(path), target.address("marker_address")), kSeccompMarker);

    CommandResult required = run_without_admin("--clone=required", dir.path() + "/none.dmp");
    EXPECT_EQ(required.exit_code, 1);
    EXPECT_EQ(required.err.find('\n'), required.err.size() - 1) << required.err;
    EXPECT_NE(required.err.find("seccomp"), std::string::npos) << required.err;
    EXPECT_EQ(dir.files().size(), 1u);
    EXPECT_TRUE(eventually_running(target.pid()));
    EXPECT_TRUE(eventually_childless(target.pid()));
}

TEST(CloneDump, DontForkAndWipeOnForkRegionsAreCopiedDuringThePause) {
    Fixture target("fixture_dontfork", {"1"});
    TempDir dir;
    const std::string path = dir.path() + "/small.dmp";
    CommandResult r =
        collect({"--quiet", "--clone=required", "--type", "full"}, target.pid(), path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto bytes = read_file(path);
    const uint64_t last = target.info().at("size").get<uint64_t>() - 8;
    EXPECT_EQ(dump_read_u64(bytes, target.address("dontfork")), kDontForkMarker);
    EXPECT_EQ(dump_read_u64(bytes, target.address("dontfork") + last), kDontForkMarker);
    EXPECT_EQ(dump_read_u64(bytes, target.address("wipeonfork")), kWipeOnForkMarker);
    EXPECT_EQ(dump_read_u64(bytes, target.address("wipeonfork") + last), kWipeOnForkMarker);
    EXPECT_TRUE(any_note(path, "(MADV_DONTFORK)", "copied from the target"));
    EXPECT_TRUE(any_note(path, "(MADV_WIPEONFORK)", "copied from the target"));
}

// The 16 bytes at `address` as `dumpscope memory` prints them: "44 44 ..." for bytes in the
// dump, "??" for bytes it does not hold.
std::string dumpscope_bytes(const std::string& dump, uint64_t address) {
    std::ostringstream hex;
    hex << "0x" << std::hex << address;
    const CommandResult r = run({dumpscope_binary(), "memory", dump, hex.str(), "16"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

// MADV_DONTFORK / MADV_WIPEONFORK regions too large to copy during the pause (80 MiB each):
// the clone has none of their bytes (zeros for WIPEONFORK), so the dump must hold the target's
// real bytes (0x44, read from it after the resume) or none: never zeros. Checked by dumpscope,
// lldb (minidump) and gdb (core).
TEST(CloneDump, LargeDontForkRegionsHoldTheTargetsBytesNeverZeros) {
    Fixture target("fixture_dontfork", {"80"});
    TempDir dir("/dev/shm");
    const uint64_t middle = 40u << 20;
    for (const std::string format : {"minidump", "core"}) {
        SCOPED_TRACE(format);
        const std::string path = dir.path() + "/large." + format;
        CommandResult r =
            collect({"--clone=required", "--type", "full", "--format", format}, target.pid(), path);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("(clone)"), std::string::npos) << r.out;
        // One line on stderr says which regions were read from the running target.
        EXPECT_NE(r.err.find("not in the clone (MADV_DONTFORK / MADV_WIPEONFORK, 160.0 MiB in all"),
                  std::string::npos)
            << r.err;
        EXPECT_TRUE(
            any_note(path, "(MADV_DONTFORK, 80.0 MiB)", "read from the target after it resumed"));
        EXPECT_TRUE(
            any_note(path, "(MADV_WIPEONFORK, 80.0 MiB)", "read from the target after it resumed"));
        const auto bytes = read_file(path);
        const uint64_t last = target.info().at("size").get<uint64_t>() - 8;
        for (const char* region : {"dontfork", "wipeonfork"}) {
            SCOPED_TRACE(region);
            const uint64_t start = target.address(region);
            EXPECT_EQ(dump_read_u64(bytes, start),
                      std::string(region) == "dontfork" ? kDontForkMarker : kWipeOnForkMarker);
            EXPECT_EQ(dump_read_u64(bytes, start + last),
                      std::string(region) == "dontfork" ? kDontForkMarker : kWipeOnForkMarker);
            EXPECT_EQ(dump_read_u64(bytes, start + middle), 0x4444444444444444ull);
            const std::string shown = dumpscope_bytes(path, start + middle);
            EXPECT_NE(shown.find("44 44 44 44"), std::string::npos) << shown;
            EXPECT_EQ(shown.find("00 00"), std::string::npos) << shown;
            std::ostringstream hex;
            hex << "0x" << std::hex << start + middle;
            const std::string at = hex.str();
            if (format == "minidump" && have_program("lldb-16")) {
                const CommandResult lldb = run({"lldb-16", "--no-lldbinit", "-b", "-c", path, "-o",
                                                "memory read --size 1 --count 8 --format x " + at});
                EXPECT_NE(lldb.out.find("0x44 0x44 0x44 0x44 0x44 0x44 0x44 0x44"),
                          std::string::npos)
                    << lldb.out << lldb.err;
            }
            if (format == "core" && have_program("gdb")) {
                const CommandResult gdb = run({"gdb", "-nx", "-batch", "-ex", "x/8xb " + at,
                                               fixture_path("fixture_dontfork"), path});
                EXPECT_NE(gdb.out.find("0x44\t0x44\t0x44\t0x44\t0x44\t0x44\t0x44\t0x44"),
                          std::string::npos)
                    << gdb.out << gdb.err;
            }
        }
    }
}

// A memory cgroup with a limit, for the processes started while the test is inside it: cgroup
// v1's memory controller, or v2's at /sys/fs/cgroup. Empty path() when none can be made.
class MemoryCgroup {
public:
    explicit MemoryCgroup(uint64_t limit) {
        std::ifstream self("/proc/self/cgroup");
        for (std::string line; std::getline(self, line);) {
            const size_t a = line.find(':'), b = line.find(':', a + 1);
            const std::string controllers = line.substr(a + 1, b - a - 1);
            std::string root, limit_file;
            if (controllers == "memory") {
                root = "/sys/fs/cgroup/memory";
                limit_file = "memory.limit_in_bytes";
            } else if (line.rfind("0::", 0) == 0) {
                root = "/sys/fs/cgroup";
                limit_file = "memory.max";
            } else {
                continue;
            }
            const std::string home = root + line.substr(b + 1);
            const std::string dir = home + "/dumpscope-clone-test-" + std::to_string(::getpid());
            if (::mkdir(dir.c_str(), 0755) != 0) continue;
            std::ofstream(dir + "/" + limit_file) << limit;
            std::ifstream check(dir + "/" + limit_file);
            uint64_t set = 0;
            if (check >> set && set == limit) {
                path_ = dir;
                home_ = home;
                return;
            }
            ::rmdir(dir.c_str());
        }
    }
    ~MemoryCgroup() {
        if (path_.empty()) return;
        leave();
        for (int i = 0; i < 100 && ::rmdir(path_.c_str()) != 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    const std::string& path() const { return path_; }
    void enter() const { std::ofstream(path_ + "/cgroup.procs") << ::getpid(); }
    void leave() const { std::ofstream(home_ + "/cgroup.procs") << ::getpid(); }

private:
    std::string path_, home_;
};

TEST(CloneDump, TooLittleMemoryForCopyOnWriteFallsBack) {
    MemoryCgroup cgroup(400u << 20);
    if (cgroup.path().empty()) GTEST_SKIP() << "cannot make a memory cgroup with a limit here";
    cgroup.enter();  // the fixture is born in it, so its memory is charged there
    auto target = std::make_unique<Fixture>("fixture_memory_hog", std::vector<std::string>{"256"});
    cgroup.leave();
    TempDir dir("/dev/shm");
    CommandResult r = collect({"--clone", "--type", "full"}, target->pid(), dir.path() + "/a.dmp");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("not enough memory for copy-on-write"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("(ptrace)"), std::string::npos) << r.out;
    CommandResult required =
        collect({"--clone=required", "--type", "full"}, target->pid(), dir.path() + "/b.dmp");
    EXPECT_EQ(required.exit_code, 1);
    EXPECT_NE(required.err.find("not enough memory"), std::string::npos) << required.err;
    EXPECT_TRUE(children_of(target->pid()).empty());
    target.reset();
}

}  // namespace
