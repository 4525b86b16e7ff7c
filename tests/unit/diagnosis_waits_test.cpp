// The diagnosis layer without a process: glibc lock layouts decoded from hand-made memory (mutex,
// robust mutex, join, rwlock, condition variable), system-call waits (poll, read, waitpid, sleeps
// for a duration and until a deadline), bounded reads of hostile values, frame skip lists and the
// signature, and finding order.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "diagnosis/finding.h"
#include "diagnosis/frames.h"
#include "diagnosis/thread_wait.h"

using namespace dumpscope;
using namespace dumpscope::diagnosis;

namespace {

constexpr uint64_t kData = 0x600000;   // rw, 1 page: the locks
constexpr uint64_t kStack = 0x700000;  // rw, 1 page

// Memory of two pages, zero but for the bytes a test puts there; unreadable elsewhere.
class ByteMemory : public MemorySource {
public:
    std::map<uint64_t, uint8_t> bytes;
    void put32(uint64_t addr, uint32_t v) {
        for (int i = 0; i < 4; ++i)
            bytes[addr + static_cast<uint64_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
    }
    void put64(uint64_t addr, uint64_t v) {
        put32(addr, static_cast<uint32_t>(v));
        put32(addr + 4, static_cast<uint32_t>(v >> 32));
    }
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        size_t n = 0;
        for (; n < out.size(); ++n) {
            const uint64_t at = addr + n;
            const bool mapped =
                (at >= kData && at < kData + 4096) || (at >= kStack && at < kStack + 4096);
            if (!mapped) break;
            auto it = bytes.find(at);
            out[n] = it == bytes.end() ? 0 : it->second;
        }
        return n;
    }
};

class Waits : public ::testing::Test {
protected:
    void SetUp() override {
        memory = std::make_shared<ByteMemory>();
        s.memory = memory;
        for (int32_t tid : {100, 101, 102}) {
            Thread t;
            t.tid = tid;
            t.state = 'S';
            s.threads.push_back(t);
        }
    }
    ThreadWait futex_wait(uint64_t word, uint32_t op, uint32_t expected,
                          const WaitCallers& callers = {}, uint64_t timeout = 0) {
        Thread& t = s.threads[0];
        t.syscall.in_syscall = true;
        t.syscall.number = 202;
        t.syscall.args = {word, op, expected, timeout, 0, 0};
        return classify_wait(s, t, callers);
    }
    Snapshot s;
    std::shared_ptr<ByteMemory> memory;
};

TEST_F(Waits, MutexOwnerIsAtPlus8) {
    memory->put32(kData, 2);        // locked, waiters
    memory->put32(kData + 8, 101);  // __owner
    const ThreadWait w = futex_wait(kData, 128 /* FUTEX_WAIT_PRIVATE */, 2);
    ASSERT_TRUE(w.lock.has_value()) << w.description;
    EXPECT_EQ(w.what, "lock");
    EXPECT_EQ(w.lock->kind, "mutex");
    EXPECT_EQ(w.lock->address, kData);
    EXPECT_EQ(w.lock->owner_tid, 101);
}

TEST_F(Waits, RobustMutexOwnerIsInTheWord) {
    memory->put32(kData, 0x80000000u | 102);  // FUTEX_WAITERS | owner
    memory->put32(kData + 16, 16);            // PTHREAD_MUTEX_ROBUST_NORMAL_NP
    const ThreadWait w = futex_wait(kData, 128, 0x80000000u | 102);
    ASSERT_TRUE(w.lock.has_value()) << w.description;
    EXPECT_EQ(w.lock->kind, "robust-mutex");
    EXPECT_EQ(w.lock->owner_tid, 102);
}

TEST_F(Waits, JoinWaitsOnTheThreadsTidWord) {
    memory->put32(kData + 0x2d0, 102);
    const ThreadWait w = futex_wait(kData + 0x2d0, 9 | 128 | 256, 102);
    ASSERT_TRUE(w.lock.has_value()) << w.description;
    EXPECT_EQ(w.lock->kind, "join");
    EXPECT_EQ(w.lock->owner_tid, 102);
}

TEST_F(Waits, RwlockReaderWaitsForTheWriterOnPlus8) {
    const uint64_t rw = kData + 0x100;
    memory->put32(rw,
                  1 | 2 | 4 | (1 << 3));  // write phase, write locked, readers waiting, 1 reader
    memory->put32(rw + 8, 3);
    memory->put32(rw + 24, 101);  // __cur_writer
    const ThreadWait w = futex_wait(rw + 8, 128 | 9, 3);
    ASSERT_TRUE(w.lock.has_value()) << w.description;
    EXPECT_EQ(w.lock->kind, "rwlock");
    EXPECT_EQ(w.lock->address, rw);
    EXPECT_EQ(w.lock->owner_tid, 101);
}

TEST_F(Waits, RwlockWriterWaitsForTheWriterOnPlus12) {
    const uint64_t rw = kData + 0x200;
    memory->put32(rw, 2);
    memory->put32(rw + 12, 3);
    memory->put32(rw + 24, 102);
    const ThreadWait w = futex_wait(rw + 12, 128 | 9, 3);
    ASSERT_TRUE(w.lock.has_value()) << w.description;
    EXPECT_EQ(w.lock->address, rw);
    EXPECT_EQ(w.lock->owner_tid, 102);
}

TEST_F(Waits, ConditionVariableIsNoLock) {
    const uint64_t cond = kData + 0x300;
    memory->put32(cond + 36, 2 << 3);  // two waiters
    const ThreadWait w = futex_wait(cond + 40, 128 | 9, 0);
    EXPECT_FALSE(w.lock.has_value());
    EXPECT_EQ(w.what, "condvar");
}

TEST_F(Waits, SemaphoreIsKnownByItsLayoutAndRecordsNoHolder) {
    const uint64_t sem = kData + 0x400;
    memory->put32(sem + 4, 2);  // value 0, two waiters, private (0)
    const ThreadWait w = futex_wait(sem, 128 | 9, 0);
    EXPECT_FALSE(w.lock.has_value());
    EXPECT_EQ(w.what, "semaphore");
    EXPECT_EQ(w.futex, sem);
    EXPECT_TRUE(w.no_timeout);
    EXPECT_TRUE(w.private_futex);
    EXPECT_NE(w.description.find("2 waiter(s)"), std::string::npos) << w.description;
    EXPECT_EQ(w.description.find("shared"), std::string::npos) << w.description;
    memory->put32(sem + 8, 128);  // glibc's FUTEX_SHARED: sem_init(..., pshared 1, ...)
    EXPECT_NE(futex_wait(sem, 9, 0).description.find("shared between processes"),
              std::string::npos);
    // A value left, or no waiter recorded, is no blocked semaphore.
    memory->put32(sem + 4, 0);
    EXPECT_EQ(futex_wait(sem, 128 | 9, 0).what, "futex");
}

TEST_F(Waits, TheStackSettlesASemaphoreThatAlsoFitsACondvar) {
    // CPython's lock: a sem_t at the start of a malloc chunk, whose size field (0x31) is where a
    // condition variable's waiter count would be for the word at +44.
    const uint64_t sem = kData + 0x500;
    memory->put64(sem - 8, 0x31);
    memory->put32(sem + 4, 1);
    EXPECT_EQ(futex_wait(sem, 128 | 9, 0).what, "condvar");  // memory alone cannot tell
    const ThreadWait glibc =
        futex_wait(sem, 128 | 9, 0, {"__futex_abstimed_wait_common", "__new_sem_wait_slow64"});
    EXPECT_EQ(glibc.what, "semaphore");
    EXPECT_EQ(glibc.description.find("CPython"), std::string::npos) << glibc.description;
    // Without libc's symbols the tail-called slow path is unnamed; CPython's caller still is.
    const ThreadWait python = futex_wait(sem, 128 | 9, 0, {"", "PyThread_acquire_lock_timed"});
    EXPECT_EQ(python.what, "semaphore");
    EXPECT_NE(python.description.find("a CPython lock"), std::string::npos) << python.description;
    EXPECT_EQ(futex_user({"__futex_abstimed_wait_common", "___pthread_cond_wait"}),
              FutexUser::kCondvar);
    EXPECT_EQ(futex_user({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "sem_wait"}),
              FutexUser::kUnknown);  // only the innermost frames
}

TEST_F(Waits, FutexWaitsSayWhetherTheyHaveATimeout) {
    const uint64_t sem = kData + 0x400;
    memory->put32(sem + 4, 1);
    EXPECT_TRUE(futex_wait(sem, 9, 0).no_timeout);
    EXPECT_FALSE(futex_wait(sem, 9, 0).private_futex);
    EXPECT_FALSE(futex_wait(sem, 128 | 9, 0, {}, kStack + 64).no_timeout);
}

TEST_F(Waits, AWordOutsideTheDumpIsSaidToBeMissing) {
    const ThreadWait w = futex_wait(0x900000, 128, 2);
    EXPECT_FALSE(w.lock.has_value());
    EXPECT_TRUE(w.memory_missing);
}

TEST_F(Waits, PollListsItsDescriptorsAndCapsTheCount) {
    for (int i = 0; i < 100; ++i)
        memory->put32(kStack + 8 * static_cast<uint64_t>(i), static_cast<uint32_t>(i + 3));
    Thread& t = s.threads[1];
    t.syscall.in_syscall = true;
    t.syscall.number = 7;  // poll
    t.syscall.args = {kStack, 2, 1000, 0, 0, 0};
    ThreadWait w = classify_wait(s, t);
    EXPECT_EQ(w.what, "poll");
    EXPECT_EQ(w.fds, (std::vector<int32_t>{3, 4}));
    t.syscall.args = {kStack, 0xffffffffffffull, 1000, 0, 0, 0};  // hostile count
    w = classify_wait(s, t);
    EXPECT_EQ(w.fds.size(), 64u);
}

TEST_F(Waits, ReadNamesTheDescriptorsTarget) {
    s.fds.push_back({5, "pipe:[777]", "pipe", 0, 0});
    Thread& t = s.threads[1];
    t.syscall.in_syscall = true;
    t.syscall.number = 0;  // read
    t.syscall.args = {5, kStack, 256, 0, 0, 0};
    const ThreadWait w = classify_wait(s, t);
    EXPECT_EQ(w.what, "read");
    EXPECT_NE(w.description.find("pipe:[777]"), std::string::npos) << w.description;
}

TEST_F(Waits, SleepsForADurationOrUntilADeadline) {
    Thread& t = s.threads[0];
    t.syscall.in_syscall = true;
    memory->put64(kStack, 60);  // a timespec: 60.250 s
    memory->put64(kStack + 8, 250000000);
    t.syscall.number = 35;  // nanosleep(req, rem)
    t.syscall.args = {kStack, 0, 0, 0, 0, 0};
    EXPECT_EQ(classify_wait(s, t).description, "nanosleep for 60.250 s");
    t.syscall.number = 230;  // clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem): relative
    t.syscall.args = {1, 0, kStack, 0, 0, 0};
    EXPECT_EQ(classify_wait(s, t).description, "clock_nanosleep for 60.250 s");
    // TIMER_ABSTIME: the timespec is a deadline (Python's time.sleep), not how long.
    memory->put64(kStack, 5112);
    t.syscall.args = {1, 1, kStack, 0, 0, 0};
    const ThreadWait monotonic = classify_wait(s, t);
    EXPECT_EQ(monotonic.what, "sleep");
    EXPECT_EQ(monotonic.description, "clock_nanosleep until 5112.250 s on CLOCK_MONOTONIC");
    memory->put64(kStack, 1796515200);  // 2026-12-06 00:00:00 UTC
    t.syscall.args = {0, 1, kStack, 0, 0, 0};
    EXPECT_EQ(classify_wait(s, t).description, "clock_nanosleep until 2026-12-06 00:00:00 UTC");
}

TEST_F(Waits, RunningAndDiskStatesWithoutASyscall) {
    s.threads[2].state = 'R';
    EXPECT_EQ(classify_wait(s, s.threads[2]).what, "running");
    s.threads[2].state = 'D';
    EXPECT_EQ(classify_wait(s, s.threads[2]).what, "disk");
}

analysis::Frame frame(const char* module, const char* function) {
    analysis::Frame f;
    f.module = module;
    f.function = function;
    f.pc = 0x1000;
    return f;
}

TEST(Frames, SignatureSkipsFailureFramesAndKeepsPrefixFrames) {
    const std::vector<analysis::Frame> abort_stack = {
        frame("libc.so.6", "__pthread_kill_implementation"),
        frame("libc.so.6", "raise"),
        frame("libc.so.6", "abort"),
        frame("libc.so.6", "__libc_message"),
        frame("libc.so.6", "malloc_printerr"),
        frame("libc.so.6", "_int_free"),
        frame("libc.so.6", "free"),
        frame("app", "free_twice()"),
        frame("app", "main"),
    };
    EXPECT_EQ(crash_signature(abort_stack), "_int_free | free | free_twice");
    EXPECT_EQ(first_own_frame(abort_stack), 7u);
    const std::vector<analysis::Frame> assert_stack = {
        frame("libc.so.6", "__GI_raise"),          frame("libc.so.6", "__GI_abort"),
        frame("libc.so.6", "__assert_fail_base"),  frame("libc.so.6", "__assert_fail"),
        frame("app", "Account::check(int) const"), frame("app", "main")};
    EXPECT_EQ(crash_signature(assert_stack), "Account::check");
    analysis::Frame unsymbolized;
    unsymbolized.module = "app";
    unsymbolized.module_base = 0x1000;
    unsymbolized.pc = 0x1234;
    EXPECT_EQ(crash_signature({unsymbolized}), "app@0x234");
}

TEST(Findings, SortedMostSevereFirstAndStable) {
    std::vector<Finding> findings(4);
    findings[0].severity = Severity::kInfo;
    findings[0].summary = "a";
    findings[1].severity = Severity::kWarning;
    findings[1].summary = "b";
    findings[2].severity = Severity::kError;
    findings[2].summary = "c";
    findings[3].severity = Severity::kWarning;
    findings[3].summary = "d";
    sort_findings(findings);
    std::string order;
    for (const auto& f : findings) order += f.summary;
    EXPECT_EQ(order, "cbda");
}

}  // namespace
