// summarize_elf_core on cores other programs wrote: gdb's gcore and the kernel's own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "elfcore/core_summary.h"

namespace dumpscope {
namespace {

namespace fs = std::filesystem;

size_t task_count(pid_t pid) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        ++n;
    }
    return n;
}

std::string exe_of(pid_t pid) {
    std::error_code ec;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
}

// Waits until `done` holds (a child finished exec'ing or starting threads), up to 10 s.
template <typename F>
bool wait_for(F done) {
    for (int i = 0; i < 1000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

class ForeignCoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        char templ[] = "/tmp/elfcore_foreign_test.XXXXXX";
        ASSERT_NE(mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        if (child_ > 0) {
            kill(child_, SIGKILL);
            waitpid(child_, nullptr, 0);
        }
        fs::remove_all(dir_);
    }

    // Runs gcore on the child; returns the core's path, or "" when gcore is missing or failed.
    std::string gcore_child() {
        if (std::system("command -v gcore >/dev/null 2>&1") != 0) return "";
        const std::string prefix = dir_ + "/gcore";
        const std::string command =
            "gcore -o " + prefix + " " + std::to_string(child_) + " >/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) return "";
        const std::string path = prefix + "." + std::to_string(child_);
        return fs::exists(path) ? path : "";
    }

    std::string dir_;
    pid_t child_ = -1;
};

TEST_F(ForeignCoreTest, ReadsGcoreCoreOfSleep) {
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
        execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
        _exit(127);
    }
    ASSERT_TRUE(wait_for([&] { return exe_of(child_).ends_with("/sleep"); }));
    const std::string path = gcore_child();
    if (path.empty()) GTEST_SKIP() << "gcore is not installed or cannot attach";

    EXPECT_TRUE(looks_like_elf_core(path));
    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->format, "elf-core");
    EXPECT_EQ(s->pid, child_);
    EXPECT_EQ(s->thread_count, 1u);
    EXPECT_EQ(s->thread_names, std::vector<std::string>{std::to_string(child_)});
    EXPECT_EQ(s->process_name, "sleep");
    EXPECT_TRUE(s->command_line.starts_with("sleep")) << s->command_line;  // gdb: no args
    EXPECT_GE(s->module_count, 2u);                                        // sleep, libc, ld.so
    EXPECT_GT(s->memory_bytes, 0u);
    EXPECT_FALSE(s->capture.has_value());
    bool tdesc = false;
    for (const auto& e : s->entries) tdesc |= e.name == "NT_GDB_TDESC x1";
    EXPECT_TRUE(tdesc);
}

TEST_F(ForeignCoreTest, ReadsGcoreCoreOfAThreadedProcess) {
    // The fixture, not a fork of this test: under ASan our own address space is enormous.
    const std::string fixture = std::string(DUMPSCOPE_FIXTURE_DIR) + "/fixture_waiters";
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
        if (freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
        execl(fixture.c_str(), fixture.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ASSERT_TRUE(wait_for([&] { return task_count(child_) == 4; }));
    const std::string path = gcore_child();
    if (path.empty()) GTEST_SKIP() << "gcore is not installed or cannot attach";

    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->pid, child_);
    EXPECT_EQ(s->process_name, "fixture_waiters");
    EXPECT_EQ(s->thread_count, 4u);
    EXPECT_EQ(s->thread_names.size(), 4u);
}

TEST_F(ForeignCoreTest, ReadsTheKernelsCoreOfAnAbort) {
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
        if (chdir(dir_.c_str()) != 0) _exit(126);
        const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &unlimited);
        prctl(PR_SET_DUMPABLE, 1);
        for (int i = 0; i < 2; ++i) {
            std::thread([] {
                for (;;) pause();
            }).detach();
        }
        while (task_count(getpid()) < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        abort();
    }
    int status = 0;
    ASSERT_EQ(waitpid(child_, &status, 0), child_);
    const pid_t pid = child_;
    child_ = -1;
    ASSERT_TRUE(WIFSIGNALED(status));
    std::string path;
    for (const auto& entry : fs::directory_iterator(dir_)) {
        if (entry.path().filename().string().starts_with("core")) path = entry.path();
    }
    if (!WCOREDUMP(status) || path.empty()) {
        GTEST_SKIP() << "the kernel wrote no core here (see /proc/sys/kernel/core_pattern)";
    }

    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->pid, pid);
    EXPECT_EQ(s->thread_count, 3u);
    ASSERT_TRUE(s->exception.has_value());
    EXPECT_EQ(s->exception->signo, SIGABRT);
    EXPECT_EQ(s->exception_tid, pid);  // the aborting thread comes first
    EXPECT_GE(s->module_count, 2u);
    EXPECT_GT(s->memory_bytes, 0u);
}

}  // namespace
}  // namespace dumpscope
