// Bad input and bad luck: a one-line error, a non-zero exit, no partial file, target running.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include "support.h"

using namespace test_support;

namespace {

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

bool has_dump_files(const TempDir& dir) {
    for (const auto& f : dir.files()) {
        if (f.rfind(".dumpscope-tmp.", 0) == 0) continue;  // a temporary, not a dump
        if (f.find(".dmp") != std::string::npos || f.find(".core") != std::string::npos)
            return true;
    }
    return false;
}

TEST(FailureModes, NoSuchProcess) {
    TempDir dir;
    CommandResult r = run({dumpscope_binary(), "collect", "999999999", dir.path()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("999999999"), std::string::npos) << r.err;
    EXPECT_TRUE(dir.files().empty());
    CommandResult by_name =
        run({dumpscope_binary(), "collect", "no-process-has-this-name", dir.path()});
    EXPECT_NE(by_name.exit_code, 0);
    EXPECT_TRUE(one_line(by_name.err)) << by_name.err;
}

TEST(FailureModes, NameMatchingSeveralProcessesListsThem) {
    Fixture a("fixture_waiters", {}, "ds-twin");
    Fixture b("fixture_waiters", {}, "ds-twin");
    TempDir dir;
    // comm of both is "fixture_waiters"; either name form must list both PIDs.
    CommandResult r = run({dumpscope_binary(), "collect", "fixture_waiters", dir.path()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(std::to_string(a.pid())), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(std::to_string(b.pid())), std::string::npos) << r.err;
    EXPECT_TRUE(dir.files().empty());
    EXPECT_TRUE(running_and_not_stopped(a.pid()));
    EXPECT_TRUE(running_and_not_stopped(b.pid()));
}

TEST(FailureModes, ExistingOutputIsNotOverwrittenWithoutFlag) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string path = dir.path() + "/existing.dmp";
    std::ofstream(path) << "keep me";
    CommandResult r = run({dumpscope_binary(), "collect", std::to_string(target.pid()), path});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos);
    auto bytes = read_file(path);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "keep me");
    EXPECT_EQ(dir.files().size(), 1u);
    CommandResult again = run({dumpscope_binary(), "collect", "--quiet", "--overwrite",
                               std::to_string(target.pid()), path});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(read_file(path).at(0), 'M');
    EXPECT_TRUE(eventually_running(target.pid()));
}

// --overwrite replaces a regular file and nothing else: as root, /dev/null would be gone.
TEST(FailureModes, OverwriteNeverReplacesDevicesFifosOrSymlinks) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string pid = std::to_string(target.pid());
    struct stat null_before {};
    ASSERT_EQ(::lstat("/dev/null", &null_before), 0);
    const std::string fifo = dir.path() + "/fifo.dmp";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string file = dir.path() + "/file.txt";
    std::ofstream(file) << "keep me";
    const std::string link = dir.path() + "/link.dmp";
    ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
    for (const std::string& output : {std::string("/dev/null"), fifo, link}) {
        CommandResult r = run({dumpscope_binary(), "collect", "--overwrite", pid, output});
        EXPECT_NE(r.exit_code, 0) << output;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_NE(r.err.find("regular file"), std::string::npos) << r.err;
    }
    struct stat st {};
    ASSERT_EQ(::lstat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, null_before.st_rdev);
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    char buf[512];
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), file);
    auto kept = read_file(file);
    EXPECT_EQ(std::string(kept.begin(), kept.end()), "keep me");
    EXPECT_EQ(dir.files().size(), 3u);

    // A directory OUTPUT still means "a new file in that directory", --overwrite or not.
    CommandResult into =
        run({dumpscope_binary(), "collect", "--quiet", "--overwrite", pid, dir.path()});
    EXPECT_EQ(into.exit_code, 0) << into.err;
    EXPECT_EQ(dir.files().size(), 4u);
    bool named_dump = false;
    for (const auto& f : dir.files()) named_dump |= f.rfind("fixture_waiters_", 0) == 0;
    EXPECT_TRUE(named_dump);
    EXPECT_TRUE(eventually_running(target.pid()));
}

TEST(FailureModes, DefaultNameInDirectory) {
    Fixture target("fixture_waiters");
    TempDir dir;
    CommandResult r =
        run({dumpscope_binary(), "collect", "--quiet", std::to_string(target.pid()), dir.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(dir.files().size(), 1u);
    const std::string name = dir.files()[0];
    // <name>_<YYYYMMDD_HHMMSS>.<pid>.dmp
    EXPECT_EQ(name.rfind("fixture_waiters_", 0), 0u) << name;
    EXPECT_NE(name.find(fmt::format(".{}.dmp", target.pid())), std::string::npos) << name;
    EXPECT_EQ(name.size(), std::string("fixture_waiters_").size() + 15 + 1 +
                               std::to_string(target.pid()).size() + 4)
        << name;
}

TEST(FailureModes, AlreadyTracedTargetNamesTheTracer) {
    Fixture target("fixture_waiters");
    ASSERT_EQ(::ptrace(PTRACE_SEIZE, target.pid(), nullptr, nullptr), 0);
    TempDir dir;
    CommandResult r =
        run({dumpscope_binary(), "collect", std::to_string(target.pid()), dir.path()});
    ::ptrace(PTRACE_DETACH, target.pid(), nullptr, nullptr);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("traced by " + std::to_string(::getpid())), std::string::npos) << r.err;
    EXPECT_TRUE(dir.files().empty());
    EXPECT_TRUE(eventually_running(target.pid()));
}

TEST(FailureModes, UnprivilegedUserCannotTraceRootProcess) {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to start a process another user may not trace";
    if (!have_program("setpriv")) GTEST_SKIP() << "setpriv missing";
    if (run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "test", "-x",
             dumpscope_binary()})
            .exit_code != 0)
        GTEST_SKIP() << "user nobody cannot execute " << dumpscope_binary()
                     << " (a parent directory is private)";
    Fixture target("fixture_waiters");
    TempDir dir;
    ::chmod(dir.path().c_str(), 0777);
    CommandResult r =
        run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", dumpscope_binary(),
             "collect", std::to_string(target.pid()), dir.path()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(std::to_string(target.pid())), std::string::npos) << r.err;
    EXPECT_TRUE(dir.files().empty());
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

TEST(FailureModes, UnwritableDirectoryFailsBeforeTouchingTarget) {
    Fixture target("fixture_waiters");
    CommandResult r =
        run({dumpscope_binary(), "collect", std::to_string(target.pid()), "/proc/no-such-dir/"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

TEST(FailureModes, FullFilesystemLeavesNoFile) {
    TempDir dir;
    if (::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=2m") != 0)
        GTEST_SKIP() << "cannot mount a small tmpfs here: " << std::strerror(errno);
    Fixture target("fixture_memory_hog", {"16"});
    CommandResult r = run({dumpscope_binary(), "collect", "--type", "full",
                           std::to_string(target.pid()), dir.path()});
    const auto files = dir.files();
    ::umount(dir.path().c_str());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("No space left"), std::string::npos) << r.err;
    EXPECT_TRUE(files.empty()) << files.size();
    EXPECT_TRUE(eventually_running(target.pid()));
}

// Starts a full dump of a large target and returns the dumper's pid once its temporary file
// has started to grow, so a signal lands mid-dump.
pid_t start_slow_dump(pid_t target, const TempDir& dir) {
    pid_t child = ::fork();
    if (child == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        execl(dumpscope_binary().c_str(), "dumpscope", "collect", "--type", "full",
              std::to_string(target).c_str(), dir.path().c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& f : dir.files()) {
            struct stat st {};
            if (f.rfind(".dumpscope-tmp.", 0) == 0 &&
                ::stat((dir.path() + "/" + f).c_str(), &st) == 0 && st.st_size > (1 << 20))
                return child;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return child;
}

TEST(FailureModes, SigtermMidDumpResumesTargetAndRemovesTemporary) {
    Fixture target("fixture_memory_hog", {"1536"});
    TempDir dir("/dev/shm");
    pid_t dumper = start_slow_dump(target.pid(), dir);
    ::kill(dumper, SIGTERM);
    int status = 0;
    ::waitpid(dumper, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
    EXPECT_TRUE(dir.files().empty()) << dir.files().size();
    EXPECT_TRUE(eventually_running(target.pid()));
}

TEST(FailureModes, SigkillMidDumpResumesTargetAndNextRunCleansUp) {
    Fixture target("fixture_memory_hog", {"1536"});
    TempDir dir("/dev/shm");
    pid_t dumper = start_slow_dump(target.pid(), dir);
    ::kill(dumper, SIGKILL);
    ::waitpid(dumper, nullptr, 0);
    EXPECT_TRUE(eventually_running(target.pid()));
    EXPECT_FALSE(has_dump_files(dir));
    Fixture small("fixture_waiters");
    CommandResult r =
        run({dumpscope_binary(), "collect", "--quiet", std::to_string(small.pid()), dir.path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& f : dir.files()) EXPECT_NE(f.rfind(".dumpscope-tmp.", 0), 0u) << f;
    EXPECT_EQ(dir.files().size(), 1u);
}

TEST(FailureModes, TargetExitingMidDumpGivesErrorAndNoFile) {
    auto target = std::make_unique<Fixture>("fixture_memory_hog", std::vector<std::string>{"1536"});
    TempDir dir("/dev/shm");
    pid_t dumper = start_slow_dump(target->pid(), dir);
    target.reset();  // SIGKILL the target and reap it
    int status = 0;
    ::waitpid(dumper, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
    EXPECT_FALSE(has_dump_files(dir));
    EXPECT_TRUE(dir.files().empty());
}

TEST(FailureModes, BadOptionsAreUsageErrors) {
    Fixture target("fixture_waiters");
    for (const std::vector<std::string>& extra : {std::vector<std::string>{"--type", "huge"},
                                                  {"--flags", "WithEverything"},
                                                  {"--user-stream", "5:/etc/hostname"},
                                                  {"--add-memory", "0x10:zz"}}) {
        std::vector<std::string> argv = {dumpscope_binary(), "collect"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back(std::to_string(target.pid()));
        argv.push_back("/tmp");
        CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 2) << extra[0] << " " << r.err;
        EXPECT_TRUE(one_line(r.err)) << r.err;
    }
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

// A user stream is read whole before the target is touched, up to --max-user-stream MiB: an
// endless file (/dev/zero) or a too big one is a usage error, not an allocation failure.
TEST(FailureModes, UserStreamFilesAreLimitedInSize) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string pid = std::to_string(target.pid());
    const auto sparse_file = [](const std::string& path, off_t size) {
        std::ofstream{path}.close();
        return ::truncate(path.c_str(), size) == 0;
    };
    const std::string big = dir.path() + "/big.bin";
    ASSERT_TRUE(sparse_file(big, 17 << 20));
    const std::string small = dir.path() + "/small.bin";
    ASSERT_TRUE(sparse_file(small, 2 << 20));
    const std::vector<std::vector<std::string>> refused = {
        {"--user-stream", "0x10000:/dev/zero"},
        {"--user-stream", "0x10000:" + big},
        {"--max-user-stream", "1", "--user-stream", "0x10000:" + small},
    };
    for (const auto& extra : refused) {
        std::vector<std::string> argv = {dumpscope_binary(), "collect"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), {pid, dir.path()});
        const auto started = std::chrono::steady_clock::now();
        CommandResult r = run(argv, 60);
        EXPECT_EQ(r.exit_code, 2) << extra.back() << ": " << r.err;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_NE(r.err.find("--max-user-stream"), std::string::npos) << r.err;
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    }
    EXPECT_FALSE(has_dump_files(dir));
    // Within the limit the stream is written whole.
    CommandResult ok = run({dumpscope_binary(), "collect", "--quiet", "--max-user-stream", "3",
                            "--user-stream", "0x10000:" + small, pid, dir.path() + "/ok.dmp"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    auto bytes = read_file(dir.path() + "/ok.dmp");
    bool found = false;
    for (const auto& s : minidump_streams(bytes)) found |= s.type == 0x10000 && s.size == 2u << 20;
    EXPECT_TRUE(found);
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

TEST(FailureModes, InfoRejectsFilesThatAreNotDumps) {
    TempDir dir;
    const std::string path = dir.path() + "/not-a-dump";
    std::ofstream(path) << "hello";
    CommandResult r = run({dumpscope_binary(), "info", path});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    CommandResult missing = run({dumpscope_binary(), "info", dir.path() + "/missing"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_TRUE(one_line(missing.err)) << missing.err;
}

}  // namespace
