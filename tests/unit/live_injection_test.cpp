// syscall_injector.h on a real child: the call runs in the chosen thread and the thread comes
// back as it was, including the ptrace options its tracer had set (the monitor traces with
// PTRACE_O_TRACECLONE and must keep seeing new threads after a clone dump).
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "live/injection_site.h"
#include "live/live_memory_source.h"
#include "live/proc_files.h"
#include "live/syscall_injector.h"
#include "live_test_child.h"
#include "procfs/maps_parser.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;

// Waits (polling, never forever) for the next ptrace stop of `tid`; its status, or -1.
int next_stop(pid_t tid, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t got = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (got == tid) return status;
        if (got < 0 && errno != EINTR) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
}

TEST(SyscallInjection, TheCallRunsAndTheTracersOptionsAreBackAfterIt) {
    // On 't' the child starts a thread and reports it.
    ChildProcess child = ChildProcess::fork_with([](int report, int request) {
        for (char c = 0; ::read(request, &c, 1) == 1;) {
            if (c == 't') std::thread([] { ::pause(); }).detach();
            (void)!::write(report, "k", 1);
        }
    });
    const pid_t pid = child.pid();
    ASSERT_EQ(::ptrace(PTRACE_SEIZE, pid, nullptr, PTRACE_O_TRACECLONE), 0);
    ASSERT_EQ(::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr), 0);
    const int stop = next_stop(pid, 10);
    ASSERT_NE(stop, -1);
    ASSERT_EQ(stop >> 16, PTRACE_EVENT_STOP);

    auto maps = read_file_whole("/proc/" + std::to_string(pid) + "/maps");
    ASSERT_TRUE(maps.ok());
    auto mappings = parse_maps(*maps);
    ASSERT_TRUE(mappings.ok());
    auto memory = LiveMemorySource::open(pid);
    ASSERT_TRUE(memory.ok());
    auto exe = read_link("/proc/" + std::to_string(pid) + "/exe");
    ASSERT_TRUE(exe.ok());
    auto site = find_injection_site(*mappings, **memory, *exe, ::sysconf(_SC_PAGESIZE));
    ASSERT_TRUE(site.ok()) << site.error().message;

    SyscallRequest getpid;
    getpid.number = SYS_getpid;
    getpid.ptrace_options = PTRACE_O_TRACECLONE;
    auto outcome = inject_syscall(pid, pid, site->address, getpid);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->result, pid);
    EXPECT_TRUE(in_interrupt_stop(pid)) << "the thread is back in its interrupt stop";

    // PTRACE_O_TRACECLONE is in force again: the new thread is reported by a clone event.
    ASSERT_EQ(::ptrace(PTRACE_CONT, pid, nullptr, nullptr), 0);
    ASSERT_TRUE(child.send_request("t", 1));
    const int event = next_stop(pid, 10);
    ASSERT_NE(event, -1) << "no stop: the options were lost";
    EXPECT_EQ(event >> 8, SIGTRAP | (PTRACE_EVENT_CLONE << 8));
}

}  // namespace
}  // namespace dumpscope
