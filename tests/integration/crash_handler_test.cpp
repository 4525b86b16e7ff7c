// `dumpscope crash-handler`: installed into the real core_pattern (saved before each test and
// put back after it, by RAII and again in TearDown, whatever happens), it turns a crash into a
// minidump with the right exception, keeps the kernel's core only when asked, trims its
// directory to the quota oldest first, writes .zst dumps when configured to compress, and
// uninstall restores the previous pattern.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "monitored_child.h"
#include "support.h"

using namespace test_support;

namespace {

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";

std::string read_core_pattern() {
    std::ifstream in(kCorePattern);
    std::string pattern;
    std::getline(in, pattern);
    return pattern;
}

bool write_core_pattern(const std::string& pattern) {
    const int fd = ::open(kCorePattern, O_WRONLY | O_TRUNC);
    if (fd < 0) return false;
    const std::string line = pattern + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    return ok;
}

// Puts the machine's core_pattern back as it was when constructed.
class CorePatternGuard {
public:
    CorePatternGuard() : saved_(read_core_pattern()) {}
    ~CorePatternGuard() { restore(); }
    CorePatternGuard(const CorePatternGuard&) = delete;
    CorePatternGuard& operator=(const CorePatternGuard&) = delete;
    void restore() const {
        if (read_core_pattern() != saved_) write_core_pattern(saved_);
    }
    const std::string& saved() const { return saved_; }

private:
    std::string saved_;
};

// A directory with a short path: the whole core_pattern must fit in 127 characters.
class ShortDir {
public:
    ShortDir() {
        char pattern[] = "/dev/shm/dsXXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ShortDir() { run({"rm", "-rf", path_}, 60); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

template <typename T>
T load(const std::vector<uint8_t>& file, uint64_t offset) {
    T value{};
    if (offset + sizeof(T) <= file.size()) std::memcpy(&value, file.data() + offset, sizeof(T));
    return value;
}

// Exception stream (type 6): ThreadId +0, ExceptionCode +8.
std::optional<std::pair<uint32_t, uint32_t>> exception_tid_and_code(const std::string& dump) {
    const auto file = read_file(dump);
    for (const DecodedStream& s : minidump_streams(file)) {
        if (s.type != 6) continue;
        return std::make_pair(load<uint32_t>(file, s.rva), load<uint32_t>(file, s.rva + 8));
    }
    return std::nullopt;
}

std::vector<std::string> files_of(const std::string& dir, pid_t pid) {
    std::vector<std::string> found;
    CommandResult ls = run({"ls", "-1", dir});
    std::istringstream names(ls.out);
    const std::string tag = "." + std::to_string(pid) + ".";
    for (std::string name; std::getline(names, name);)
        if (name.find(tag) != std::string::npos) found.push_back(name);
    return found;
}

bool has_suffix(const std::vector<std::string>& names, const std::string& suffix) {
    for (const auto& n : names)
        if (n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix) return true;
    return false;
}

// Waits until the handler has written a file ending in `suffix` for pid.
bool wait_for_file(const std::string& dir, pid_t pid, const std::string& suffix) {
    const auto deadline = TestClock::now() + std::chrono::seconds(30);
    while (TestClock::now() < deadline) {
        if (has_suffix(files_of(dir, pid), suffix)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// A non-sparse file of `bytes` with its modification time `age_s` seconds in the past.
void make_old_dump(const std::string& path, size_t bytes, int age_s) {
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
    const timespec when[2] = {{::time(nullptr) - age_s, 0}, {::time(nullptr) - age_s, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), when, 0);
}

class CrashHandler : public ::testing::Test {
protected:
    void SetUp() override {
        if (::getuid() != 0) GTEST_SKIP() << "needs root to change core_pattern";
        const int fd = ::open(kCorePattern, O_WRONLY);
        if (fd < 0) GTEST_SKIP() << "core_pattern is not writable here";
        ::close(fd);
        guard_ = std::make_unique<CorePatternGuard>();
        config_ = dir_.path() + "/c";
        out_ = dir_.path() + "/out";
    }
    void TearDown() override {
        if (!guard_) return;
        guard_->restore();
        EXPECT_EQ(read_core_pattern(), guard_->saved()) << "core_pattern was not restored";
    }
    CommandResult handler(std::vector<std::string> args) {
        args.insert(args.begin(), {dumpscope_binary(), "crash-handler"});
        args.insert(args.end(), {"--config", config_});
        return run(args, 60);
    }

    std::unique_ptr<CorePatternGuard> guard_;
    ShortDir dir_;
    std::string config_, out_;
};

TEST_F(CrashHandler, CrashBecomesAMinidumpAndUninstallRestoresThePattern) {
    CommandResult install = handler({"install", "--dir", out_, "--quota", "64"});
    ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
    const std::string pattern = read_core_pattern();
    EXPECT_EQ(pattern.rfind("|" + dumpscope_binary() + " crash-handler collect", 0), 0u) << pattern;
    CommandResult status = handler({"status"});
    EXPECT_NE(status.out.find("crash handler: installed"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("previous_core_pattern = " + guard_->saved()), std::string::npos)
        << status.out;

    DrivenFixture crasher("fixture_nullptr");
    crasher.send("go");
    auto exit_status = crasher.wait_exit(30);
    ASSERT_TRUE(exit_status.has_value());
    ASSERT_TRUE(WIFSIGNALED(*exit_status));
    EXPECT_EQ(WTERMSIG(*exit_status), SIGSEGV);  // the handler changes nothing for the process
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".dmp")) << run({"ls", out_}).out;
    const auto files = files_of(out_, crasher.pid());
    EXPECT_FALSE(has_suffix(files, ".core")) << "keep_core is off";
    const std::string dump = out_ + "/" + files.at(0);
    EXPECT_EQ(files[0].rfind("fixture_nullptr_crash_", 0), 0u) << files[0];

    auto exception = exception_tid_and_code(dump);
    ASSERT_TRUE(exception.has_value());
    EXPECT_EQ(exception->first, static_cast<uint32_t>(crasher.pid()));
    EXPECT_EQ(exception->second, static_cast<uint32_t>(SIGSEGV));
    const nlohmann::json info = info_json(dump);
    EXPECT_EQ(info["capture"]["trigger"], "crash");
    EXPECT_EQ(info["thread_count"], 2);
    if (have_program("lldb-16")) {
        CommandResult bt = run({"lldb-16", "--no-lldbinit", "-b", "-c", dump, "-o", "bt"}, 180);
        EXPECT_NE(bt.out.find("print_through_null_b"), std::string::npos) << bt.out;
    }

    CommandResult uninstall = handler({"uninstall"});
    EXPECT_EQ(uninstall.exit_code, 0) << uninstall.err;
    EXPECT_EQ(read_core_pattern(), guard_->saved());
}

TEST_F(CrashHandler, QuotaRemovesTheOldestDumpsFirstAndCoresAreKeptWhenAsked) {
    ASSERT_EQ(::mkdir(out_.c_str(), 0755), 0);
    make_old_dump(out_ + "/oldest_crash_20200101_000000.1.dmp", 700 * 1024, 300);
    make_old_dump(out_ + "/older_crash_20200101_000100.2.dmp", 300 * 1024, 200);
    CommandResult install = handler({"install", "--dir", out_, "--quota", "1", "--keep-core"});
    ASSERT_EQ(install.exit_code, 0) << install.out << install.err;

    DrivenFixture crasher("fixture_divzero");
    crasher.send("go");
    auto exit_status = crasher.wait_exit(30);
    ASSERT_TRUE(exit_status.has_value());
    EXPECT_TRUE(WIFSIGNALED(*exit_status) && WTERMSIG(*exit_status) == SIGFPE);
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".dmp"));
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".core"));
    // The collector trims after writing: give it a moment to finish.
    const std::string oldest = out_ + "/oldest_crash_20200101_000000.1.dmp";
    const auto deadline = TestClock::now() + std::chrono::seconds(30);
    while (TestClock::now() < deadline && ::access(oldest.c_str(), F_OK) == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_NE(::access(oldest.c_str(), F_OK), 0) << "the oldest dump should have gone first";
    EXPECT_EQ(::access((out_ + "/older_crash_20200101_000100.2.dmp").c_str(), F_OK), 0)
        << "only as much as the quota needs goes";
    const auto files = files_of(out_, crasher.pid());
    EXPECT_TRUE(has_suffix(files, ".dmp") && has_suffix(files, ".core"));
    // The kept core is the kernel's: dumpscope info reads it with the same signal.
    for (const auto& name : files) {
        if (name.substr(name.size() - 5) != ".core") continue;
        EXPECT_EQ(info_json(out_ + "/" + name)["exception"]["signal"], SIGFPE);
    }
    EXPECT_EQ(handler({"uninstall"}).exit_code, 0);
    EXPECT_EQ(read_core_pattern(), guard_->saved());
}

// install --compress stores the level in the configuration; the collector then writes the
// minidump and the kept core zstd-compressed (seekable .dmp.zst and .core.zst, compressed while
// written): the zstd CLI gives back a minidump with the crash's exception, and dumpscope reads
// both files in place.
TEST_F(CrashHandler, CompressedConfigurationWritesZstDumps) {
    CommandResult install =
        handler({"install", "--dir", out_, "--keep-core", "--compress=3", "--quota", "64"});
    ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
    EXPECT_NE(install.out.find("zstd level 3"), std::string::npos) << install.out;
    CommandResult status = handler({"status"});
    EXPECT_NE(status.out.find("compress_level = 3"), std::string::npos) << status.out;

    DrivenFixture crasher("fixture_nullptr");
    crasher.send("go");
    auto exit_status = crasher.wait_exit(30);
    ASSERT_TRUE(exit_status.has_value());
    ASSERT_TRUE(WIFSIGNALED(*exit_status));
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".dmp.zst")) << run({"ls", out_}).out;
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".core.zst")) << run({"ls", out_}).out;
    std::string dmp_zst, core_zst;
    for (const std::string& name : files_of(out_, crasher.pid())) {
        EXPECT_TRUE(has_suffix({name}, ".zst")) << "a plain file was left: " << name;
        if (has_suffix({name}, ".dmp.zst")) dmp_zst = out_ + "/" + name;
        if (has_suffix({name}, ".core.zst")) core_zst = out_ + "/" + name;
    }
    ASSERT_FALSE(dmp_zst.empty());
    ASSERT_FALSE(core_zst.empty());

    const std::string plain = dir_.path() + "/plain.dmp";
    CommandResult unzstd = run({"zstd", "-q", "-d", dmp_zst, "-o", plain});
    ASSERT_EQ(unzstd.exit_code, 0) << unzstd.err;
    auto exception = exception_tid_and_code(plain);
    ASSERT_TRUE(exception.has_value());
    EXPECT_EQ(exception->first, static_cast<uint32_t>(crasher.pid()));
    EXPECT_EQ(exception->second, static_cast<uint32_t>(SIGSEGV));
    EXPECT_LT(read_file(dmp_zst).size(), read_file(plain).size());
    EXPECT_EQ(run({"zstd", "-q", "-t", core_zst}).exit_code, 0);

    for (const std::string& dump : {dmp_zst, core_zst}) {
        const nlohmann::json info = info_json(dump);
        EXPECT_EQ(info["exception"]["signal"], SIGSEGV) << dump;
        CommandResult stack = run({dumpscope_binary(), "stack", "--all", dump}, 120);
        EXPECT_EQ(stack.exit_code, 0) << stack.err;
        EXPECT_NE(stack.out.find("print_through_null_b"), std::string::npos) << stack.out;
    }
    EXPECT_EQ(info_json(dmp_zst)["capture"]["trigger"], "crash");
    EXPECT_EQ(handler({"uninstall"}).exit_code, 0);
    EXPECT_EQ(read_core_pattern(), guard_->saved());
}

// --upload: each minidump is posted to a crash collector (the dump service's /submit) in
// Breakpad's upload protocol, and the log says so.
TEST_F(CrashHandler, UploadSendsEachMinidumpToTheCollector) {
    OneRequestServer server;
    CommandResult install = handler({"install", "--dir", out_, "--upload", server.url("/submit")});
    ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
    EXPECT_NE(handler({"status"}).out.find("upload_url = " + server.url("/submit")),
              std::string::npos);
    std::string request;
    std::thread accept([&] { request = server.wait_for_request(60); });
    DrivenFixture crasher("fixture_nullptr");
    crasher.send("go");
    auto exit_status = crasher.wait_exit(30);
    accept.join();
    ASSERT_TRUE(exit_status.has_value() && WIFSIGNALED(*exit_status));
    ASSERT_TRUE(wait_for_file(out_, crasher.pid(), ".dmp")) << run({"ls", out_}).out;
    std::string dump;
    for (const std::string& name : files_of(out_, crasher.pid()))
        if (has_suffix({name}, ".dmp")) dump = out_ + "/" + name;
    EXPECT_EQ(request.rfind("POST /submit HTTP/1.1\r\n", 0), 0u) << request.substr(0, 200);
    const std::vector<uint8_t> file = read_file(dump);
    EXPECT_EQ(uploaded_dump(request), std::string(file.begin(), file.end()));
    // The collector logs the upload after it answered.
    const auto deadline = TestClock::now() + std::chrono::seconds(30);
    std::string log;
    while (TestClock::now() < deadline) {
        std::ifstream in(out_ + "/crash-handler.log");
        log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (log.find("uploaded") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(log.find("uploaded " + dump + " to " + server.url("/submit")), std::string::npos)
        << log;
    EXPECT_EQ(handler({"uninstall"}).exit_code, 0);
    CommandResult refused = handler({"install", "--dir", out_, "--upload", "https://x/submit"});
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
}

TEST_F(CrashHandler, InstallTwiceKeepsTheOriginalPatternForUninstall) {
    ASSERT_EQ(handler({"install", "--dir", out_}).exit_code, 0);
    CommandResult again = handler({"install", "--dir", out_, "--type", "midi"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("previous core_pattern '" + guard_->saved() + "'"), std::string::npos)
        << again.out;
    EXPECT_EQ(handler({"uninstall"}).exit_code, 0);
    EXPECT_EQ(read_core_pattern(), guard_->saved());
    // Not installed any more: uninstall leaves a foreign pattern alone.
    CommandResult second = handler({"uninstall"});
    EXPECT_EQ(second.exit_code, 0);
    EXPECT_NE(second.out.find("not installed"), std::string::npos) << second.out;
    EXPECT_EQ(read_core_pattern(), guard_->saved());
}

}  // namespace
