// ProcessFreezer: every thread stops, every thread runs again afterwards (also after errors),
// threads born during the attach are caught, signals are not swallowed.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "live/process_freezer.h"
#include "live/thread_ptrace.h"
#include "live_test_child.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;
using testing::StandardReport;

struct StandardChild {
    ChildProcess process = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    StandardChild() { EXPECT_TRUE(process.read_report(&report, sizeof(report))); }
};

bool contains(const std::vector<int32_t>& values, int32_t value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

TEST(LiveFreezer, FreezeStopsEveryThreadAndThawResumesThem) {
    StandardChild child;
    const pid_t pid = child.process.pid();
    {
        auto frozen = ProcessFreezer::freeze(pid);
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        EXPECT_TRUE(frozen->frozen());
        ASSERT_EQ(frozen->tids().size(), 4u);
        EXPECT_EQ(frozen->tids()[0], pid) << "main thread first";
        for (pid_t tid : child.report.worker_tids) EXPECT_TRUE(contains(frozen->tids(), tid));
        for (pid_t tid : testing::list_tasks(pid)) {
            EXPECT_EQ(testing::thread_state(pid, tid), 't') << "thread " << tid;
        }
        ASSERT_EQ(frozen->states_before().size(), 4u);
        for (char state : frozen->states_before()) {
            EXPECT_TRUE(state == 'S' || state == 'R') << "state before: " << state;
        }
        EXPECT_GE(frozen->paused_ms(), 0.0);
    }
    EXPECT_TRUE(testing::wait_all_running(pid));
    for (pid_t tid : testing::list_tasks(pid)) {
        char state = testing::thread_state(pid, tid);
        EXPECT_TRUE(state == 'S' || state == 'R') << "thread " << tid << " is " << state;
    }
}

TEST(LiveFreezer, ThawIsIdempotentAndStopsThePauseClock) {
    StandardChild child;
    auto frozen = ProcessFreezer::freeze(child.process.pid());
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    frozen->thaw();
    EXPECT_FALSE(frozen->frozen());
    double paused = frozen->paused_ms();
    testing::sleep_ms(20);
    EXPECT_EQ(frozen->paused_ms(), paused) << "paused_ms must stop counting at thaw";
    frozen->thaw();
    EXPECT_TRUE(testing::wait_all_running(child.process.pid()));
}

TEST(LiveFreezer, MovedFreezerKeepsTheThreadsStoppedUntilItGoesAway) {
    StandardChild child;
    const pid_t pid = child.process.pid();
    auto frozen = ProcessFreezer::freeze(pid);
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    {
        ProcessFreezer moved(std::move(frozen).value());
        EXPECT_TRUE(moved.frozen());
        EXPECT_EQ(testing::thread_state(pid, pid), 't');
    }
    EXPECT_TRUE(testing::wait_all_running(pid));
}

TEST(LiveFreezer, SecondFreezerReportsAlreadyTracedByUs) {
    StandardChild child;
    const pid_t pid = child.process.pid();
    auto first = ProcessFreezer::freeze(pid);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = ProcessFreezer::freeze(pid);
    ASSERT_FALSE(second.ok());
    const std::string expected = "cannot attach to " + std::to_string(pid) +
                                 ": already traced by " + std::to_string(::getpid()) + " (";
    EXPECT_EQ(second.error().message.rfind(expected, 0), 0u) << second.error().message;
    EXPECT_TRUE(first->frozen()) << "the failed attempt must not disturb the first freezer";
    EXPECT_EQ(testing::thread_state(pid, pid), 't');
}

// A helper process seizes the last worker only; our freeze then fails midway and must release
// the threads it had already stopped.
TEST(LiveFreezer, ErrorMidwayResumesTheThreadsAlreadyStopped) {
    StandardChild child;
    const pid_t pid = child.process.pid();
    pid_t victim =
        *std::max_element(std::begin(child.report.worker_tids), std::end(child.report.worker_tids));
    ChildProcess helper = ChildProcess::fork_with([victim](int report_fd, int) {
        char ok = ::ptrace(PTRACE_SEIZE, victim, nullptr, nullptr) == 0 ? 'y' : 'n';
        if (::write(report_fd, &ok, 1) != 1) ::_exit(1);
        for (;;) ::pause();
    });
    char ok = 0;
    ASSERT_TRUE(helper.read_report(&ok, 1));
    ASSERT_EQ(ok, 'y');

    auto frozen = ProcessFreezer::freeze(pid);
    ASSERT_FALSE(frozen.ok());
    EXPECT_NE(frozen.error().message.find("already traced by " + std::to_string(helper.pid())),
              std::string::npos)
        << frozen.error().message;
    EXPECT_TRUE(testing::wait_all_running(pid));
    for (pid_t tid : testing::list_tasks(pid)) {
        char state = testing::thread_state(pid, tid);
        EXPECT_TRUE(state == 'S' || state == 'R') << "thread " << tid << " is " << state;
    }
}

// The child creates short-lived threads without pause; each freeze must still stop them all.
TEST(LiveFreezer, CatchesThreadsCreatedWhileAttaching) {
    ChildProcess child = ChildProcess::fork_with([](int report_fd, int) {
        static std::atomic<int> alive{0};
        int created = 0;
        for (;;) {
            if (alive.load() < 40) {
                pthread_attr_t attr;
                ::pthread_attr_init(&attr);
                ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                ::pthread_attr_setstacksize(&attr, 64 * 1024);
                pthread_t thread;
                alive.fetch_add(1);
                auto body = [](void*) -> void* {
                    timespec ts{0, (testing::current_tid() % 3) * 1000 * 1000};
                    ::nanosleep(&ts, nullptr);
                    alive.fetch_sub(1);
                    return nullptr;
                };
                if (::pthread_create(&thread, &attr, body, nullptr) != 0) alive.fetch_sub(1);
                ::pthread_attr_destroy(&attr);
                if (++created == 20 && ::write(report_fd, "r", 1) != 1) ::_exit(1);
            } else {
                ::sched_yield();
            }
        }
    });
    char ready = 0;
    ASSERT_TRUE(child.read_report(&ready, 1));
    const pid_t pid = child.pid();
    size_t most_threads = 0;
    for (int round = 0; round < 200; ++round) {
        auto frozen = ProcessFreezer::freeze(pid);
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        most_threads = std::max(most_threads, frozen->tids().size());
        for (pid_t tid : testing::list_tasks(pid)) {
            // A thread that was exiting when frozen (dead: nothing to stop) can still be listed
            // for a moment after.
            const char state = testing::thread_state(pid, tid);
            if (state == 'Z' || state == 'X' || state == '\0') continue;
            ASSERT_TRUE(contains(frozen->tids(), tid))
                << "thread " << tid << " (state " << state << ") was missed";
            ASSERT_EQ(state, 't') << "thread " << tid;
        }
    }
    EXPECT_GT(most_threads, 1u);
    EXPECT_TRUE(testing::wait_all_running(pid));
}

TEST(LiveFreezer, ReportsMissingAndZombieProcesses) {
    ChildProcess child = ChildProcess::fork_with([](int, int) { ::_exit(3); });
    const pid_t pid = child.pid();
    // Wait for the zombie (not reaped: the guard reaps it at the end).
    for (int i = 0; i < 2000 && testing::thread_state(pid, pid) != 'Z'; ++i) testing::sleep_ms(5);
    ASSERT_EQ(testing::thread_state(pid, pid), 'Z');
    auto zombie = ProcessFreezer::freeze(pid);
    ASSERT_FALSE(zombie.ok());
    EXPECT_NE(zombie.error().message.find("has exited"), std::string::npos)
        << zombie.error().message;

    child.kill_and_reap();
    auto missing = ProcessFreezer::freeze(pid);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "no such process: " + std::to_string(pid));

    auto self = ProcessFreezer::freeze(::getpid());
    ASSERT_FALSE(self.ok());
    EXPECT_NE(self.error().message.find("dumpscope itself"), std::string::npos);
}

// A parent waiting in vfork() sleeps uninterruptibly (state D) until its child execs or exits:
// the freeze must give up after its timeout with a clear error and release the worker thread
// it did stop.
TEST(LiveFreezer, ThreadThatCannotStopTimesOutWithAClearError) {
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    ChildProcess child = ChildProcess::fork_with([](int report_fd, int) {
        pthread_t worker;
        ::pthread_create(
            &worker, nullptr,
            [](void*) -> void* {
                for (;;) ::pause();
            },
            nullptr);
        static int fd = report_fd;
        if (::vfork() == 0) {
            pid_t self = ::getpid();
            if (::write(fd, &self, sizeof(self)) != sizeof(self)) ::_exit(1);
            for (;;) ::pause();
        }
        ::_exit(0);
    });
    pid_t vfork_child = 0;
    ASSERT_TRUE(child.read_report(&vfork_child, sizeof(vfork_child)));
    // Kill both; the orphaned vfork child is then ours to reap (we are a subreaper).
    struct KillOnExit {
        ChildProcess& parent;
        pid_t vfork_child;
        ~KillOnExit() {
            ::kill(vfork_child, SIGKILL);
            parent.kill_and_reap();
            while (::waitpid(vfork_child, nullptr, __WALL) < 0 && errno == EINTR) {
            }
        }
    } kill_both{child, vfork_child};
    const pid_t pid = child.pid();
    for (int i = 0; i < 2000 && testing::thread_state(pid, pid) != 'D'; ++i) testing::sleep_ms(5);
    ASSERT_EQ(testing::thread_state(pid, pid), 'D');

    auto frozen = ProcessFreezer::freeze(pid, std::chrono::milliseconds(200));
    ASSERT_FALSE(frozen.ok());
    EXPECT_NE(frozen.error().message.find("thread " + std::to_string(pid) + " of process " +
                                          std::to_string(pid) + " did not stop within 200 ms"),
              std::string::npos)
        << frozen.error().message;
    EXPECT_NE(frozen.error().message.find("state D"), std::string::npos);
    EXPECT_TRUE(testing::wait_all_running(pid));
    for (pid_t tid : testing::list_tasks(pid)) {
        if (tid == pid) continue;  // still in vfork()
        char state = testing::thread_state(pid, tid);
        EXPECT_TRUE(state == 'S' || state == 'R') << "worker " << tid << " is " << state;
    }
}

// Deterministic check of the re-injection: a signal caught in a signal-delivery-stop is handed
// back at detach, so the child's handler still runs.
TEST(LiveFreezer, DetachPassesOnTheSignalOfASignalDeliveryStop) {
    ChildProcess child = ChildProcess::fork_with([](int report_fd, int) {
        static int fd = report_fd;
        struct sigaction action {};
        action.sa_handler = [](int) {
            if (::write(fd, "s", 1) != 1) ::_exit(1);
        };
        ::sigaction(SIGUSR1, &action, nullptr);
        if (::write(fd, "r", 1) != 1) ::_exit(1);
        for (;;) ::pause();
    });
    char byte = 0;
    ASSERT_TRUE(child.read_report(&byte, 1));
    const pid_t pid = child.pid();
    ASSERT_EQ(seize_thread(pid), 0);
    ASSERT_EQ(::kill(pid, SIGUSR1), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    ThreadStop stop = wait_for_stop(pid, deadline);
    ASSERT_EQ(stop.kind, ThreadStop::Kind::kStopped);
    EXPECT_EQ(stop.pending_signal, SIGUSR1);
    ASSERT_TRUE(detach_thread(pid, stop.pending_signal));
    ASSERT_TRUE(child.read_report(&byte, 1));
    EXPECT_EQ(byte, 's');
}

// Queued real-time signals sent while we freeze over and over (from another thread, so some
// arrive between our seize and our interrupt): every one must still reach the child.
TEST(LiveFreezer, FreezingNeverSwallowsSignals) {
    ChildProcess child = ChildProcess::fork_with([](int report_fd, int request_fd) {
        static std::atomic<int> received{0};
        struct sigaction action {};
        action.sa_handler = [](int) { received.fetch_add(1); };
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGRTMIN, &action, nullptr);
        if (::write(report_fd, "r", 1) != 1) ::_exit(1);
        int expected = 0;
        if (::read(request_fd, &expected, sizeof(expected)) != sizeof(expected)) ::_exit(1);
        for (int i = 0; i < 3000 && received.load() < expected; ++i) testing::sleep_ms(10);
        int got = received.load();
        if (::write(report_fd, &got, sizeof(got)) != sizeof(got)) ::_exit(1);
        for (;;) ::pause();
    });
    char ready = 0;
    ASSERT_TRUE(child.read_report(&ready, 1));
    const pid_t pid = child.pid();
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::thread sender([&] {
        while (!stop.load()) {
            sigval value{};
            if (::sigqueue(pid, SIGRTMIN, value) == 0) sent.fetch_add(1);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });
    for (int i = 0; i < 1000; ++i) {
        auto frozen = ProcessFreezer::freeze(pid);
        if (!frozen.ok()) {
            ADD_FAILURE() << frozen.error().message;
            break;
        }
    }
    stop.store(true);
    sender.join();
    int expected = sent.load();
    ASSERT_TRUE(child.send_request(&expected, sizeof(expected)));
    int received = 0;
    ASSERT_TRUE(child.read_report(&received, sizeof(received), 60000));
    EXPECT_EQ(received, expected);
}

// A process the user stopped (SIGSTOP, state T) stays stopped after we thaw it, and a signal
// queued meanwhile is delivered once it continues.
TEST(LiveFreezer, StoppedProcessStaysStoppedAndKeepsItsSignals) {
    ChildProcess child = ChildProcess::fork_with([](int report_fd, int) {
        static int fd = report_fd;
        struct sigaction action {};
        action.sa_handler = [](int) {
            if (::write(fd, "s", 1) != 1) ::_exit(1);
        };
        ::sigaction(SIGUSR1, &action, nullptr);
        if (::write(fd, "r", 1) != 1) ::_exit(1);
        for (;;) ::pause();
    });
    char byte = 0;
    ASSERT_TRUE(child.read_report(&byte, 1));
    const pid_t pid = child.pid();
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    for (int i = 0; i < 2000 && testing::thread_state(pid, pid) != 'T'; ++i) testing::sleep_ms(5);
    ASSERT_EQ(testing::thread_state(pid, pid), 'T');
    ASSERT_EQ(::kill(pid, SIGUSR1), 0);
    {
        auto frozen = ProcessFreezer::freeze(pid);
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        EXPECT_EQ(frozen->states_before()[0], 'T');
        EXPECT_EQ(testing::thread_state(pid, pid), 't');
    }
    for (int i = 0; i < 2000 && testing::thread_state(pid, pid) != 'T'; ++i) testing::sleep_ms(5);
    EXPECT_EQ(testing::thread_state(pid, pid), 'T') << "thaw must not continue a stopped process";
    ASSERT_EQ(::kill(pid, SIGCONT), 0);
    ASSERT_TRUE(child.read_report(&byte, 1));
    EXPECT_EQ(byte, 's');
}

}  // namespace
}  // namespace dumpscope
