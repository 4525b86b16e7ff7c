// A deadlocked process: every reader shows both lockers where they block, and the dumpscope
// thread stream records that each one sleeps in futex() on the other's mutex.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "support.h"

using namespace test_support;

namespace {

constexpr uint32_t kThreadExtraStream = 0x44530001;
constexpr int64_t kFutexSyscall = 202;  // x86-64

struct ThreadExtra {
    uint32_t tid;
    char state;
    bool in_syscall;
    int64_t syscall;
    uint64_t arg0;
};

// Decodes the stream by the layout in docs/streams.md, independently of the writer's structs.
std::vector<ThreadExtra> thread_extras(const std::vector<uint8_t>& file) {
    std::vector<ThreadExtra> out;
    for (const DecodedStream& s : minidump_streams(file)) {
        if (s.type != kThreadExtraStream) continue;
        uint32_t header = 0, entry = 0, count = 0;
        std::memcpy(&header, &file[s.rva], 4);
        std::memcpy(&entry, &file[s.rva + 4], 4);
        std::memcpy(&count, &file[s.rva + 8], 4);
        for (uint32_t i = 0; i < count; ++i) {
            const uint8_t* e = &file[s.rva + header + static_cast<size_t>(entry) * i];
            ThreadExtra t{};
            std::memcpy(&t.tid, e, 4);
            t.state = static_cast<char>(e[4]);
            t.in_syscall = e[5] != 0;
            std::memcpy(&t.syscall, e + 8, 8);
            std::memcpy(&t.arg0, e + 16, 8);
            out.push_back(t);
        }
    }
    return out;
}

TEST(DeadlockCapture, ReadersShowBothLockersBlockedOnEachOthersMutex) {
    Fixture target("fixture_deadlock");
    // The fixture prints its line before the threads have locked: wait until all three sleep.
    auto sleeping = [&] {
        int n = 0;
        for (char s : thread_states(target.pid())) n += s == 'S';
        return n;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (sleeping() != 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(sleeping(), 3) << "the fixture's three threads are not all asleep after 30 s";
    TempDir dir;
    const std::string dump = dir.path() + "/deadlock.dmp";
    CommandResult r =
        run({dumpscope_binary(), "collect", "--quiet", std::to_string(target.pid()), dump});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(eventually_running(target.pid()));

    const auto extras = thread_extras(read_file(dump));
    ASSERT_EQ(extras.size(), 3u);
    const uint64_t mutex_a = target.address("mutex_a"), mutex_b = target.address("mutex_b");
    int on_a = 0, on_b = 0;
    for (const ThreadExtra& t : extras) {
        EXPECT_EQ(t.state, 'S') << t.tid;
        EXPECT_TRUE(t.in_syscall) << t.tid;
        EXPECT_EQ(t.syscall, kFutexSyscall) << t.tid;
        on_a += t.arg0 == mutex_a;  // futex word = &mutex->__lock, offset 0
        on_b += t.arg0 == mutex_b;
    }
    EXPECT_EQ(on_a, 1);
    EXPECT_EQ(on_b, 1);

    const std::string lldb = have_program("lldb-16") ? "lldb-16" : "lldb";
    if (!have_program(lldb)) GTEST_SKIP() << "lldb is not installed (make deps)";
    CommandResult bt = run({lldb, "--no-lldbinit", "-b", "-c", dump, "-o", "bt all"}, 180);
    ASSERT_EQ(bt.exit_code, 0) << bt.err;
    EXPECT_NE(bt.out.find("lock_a_then_b"), std::string::npos) << bt.out;
    EXPECT_NE(bt.out.find("lock_b_then_a"), std::string::npos) << bt.out;
    EXPECT_NE(bt.out.find("pthread_mutex_lock"), std::string::npos) << bt.out;
}

}  // namespace
