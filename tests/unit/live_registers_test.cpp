// Registers and system-call state of the threads of a frozen child.
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <fstream>

#include "arch/arch.h"
#include "live/proc_files.h"
#include "live/process_freezer.h"
#include "live/syscall_state.h"
#include "live/thread_registers.h"
#include "live_test_child.h"
#include "procfs/maps_parser.h"
#include "procfs/syscall_parse.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;
using testing::StandardReport;

const Mapping* find_mapping(const std::vector<Mapping>& maps, uint64_t addr) {
    for (const auto& m : maps) {
        if (addr >= m.start && addr < m.end) return &m;
    }
    return nullptr;
}

TEST(LiveRegisters, EveryThreadHasPlausibleRegisters) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    auto frozen = ProcessFreezer::freeze(child.pid());
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    auto maps_text = read_file_whole(proc_dir(child.pid()) + "/maps");
    ASSERT_TRUE(maps_text.ok());
    auto maps = parse_maps(*maps_text);
    ASSERT_TRUE(maps.ok());

    ASSERT_EQ(frozen->tids().size(), 4u);
    std::set<uint64_t> fs_bases;
    for (int32_t tid : frozen->tids()) {
        auto regs = read_thread_registers(tid);
        ASSERT_TRUE(regs.ok()) << regs.error().message;
        const Mapping* code = find_mapping(*maps, regs->x86_64()->gp.rip);
        ASSERT_NE(code, nullptr) << "rip of " << tid << " outside every mapping";
        EXPECT_TRUE(code->exec);
        const Mapping* stack = find_mapping(*maps, regs->x86_64()->gp.rsp);
        ASSERT_NE(stack, nullptr) << "rsp of " << tid << " outside every mapping";
        EXPECT_TRUE(stack->write);
        EXPECT_NE(regs->x86_64()->gp.fs_base, 0u);
        fs_bases.insert(regs->x86_64()->gp.fs_base);
        EXPECT_EQ(regs->x86_64()->gp.cs, 0x33u) << "64-bit user code segment";
        EXPECT_TRUE(regs->x86_64()->has_fpregs);
        uint32_t mxcsr = 0;
        std::memcpy(&mxcsr, regs->x86_64()->fxsave.data() + 24, sizeof(mxcsr));
        EXPECT_EQ(mxcsr & 0xffc0u, 0x1f80u) << "default exception masks";
        EXPECT_GE(regs->x86_64()->xsave.size(), 576u);
        EXPECT_LE(regs->x86_64()->xsave.size(), xstate_buffer_size());
        EXPECT_EQ(std::memcmp(regs->x86_64()->xsave.data(), regs->x86_64()->fxsave.data(), 160), 0)
            << "the XSAVE area starts with the FXSAVE image";
    }
    EXPECT_EQ(fs_bases.size(), 4u) << "each thread has its own TLS";
}

// The sleeping workers are in nanosleep/clock_nanosleep; the main thread is in pause().
TEST(LiveRegisters, SyscallStateOfBlockedThreads) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    // Let the main thread reach pause(): sleeping, and in that very call (the state alone could
    // be a brief sleep on the way there).
    auto in_pause = [&] {
        std::ifstream in("/proc/" + std::to_string(child.pid()) + "/syscall");
        long number = -1;
        in >> number;
        return testing::thread_state(child.pid(), child.pid()) == 'S' && number == SYS_pause;
    };
    for (int i = 0; i < 2000 && !in_pause(); ++i) testing::sleep_ms(5);
    auto frozen = ProcessFreezer::freeze(child.pid());
    ASSERT_TRUE(frozen.ok()) << frozen.error().message;
    auto regs = read_thread_registers(child.pid());
    ASSERT_TRUE(regs.ok());
    SyscallState state = read_syscall_state(child.pid(), child.pid(), *regs);
    EXPECT_TRUE(state.in_syscall);
    EXPECT_EQ(state.number, SYS_pause);
    EXPECT_EQ(state.number, static_cast<int64_t>(regs->x86_64()->gp.orig_rax));
    // The same answer from the registers alone.
    EXPECT_EQ(arch::syscall_from_context(*regs).number, SYS_pause);

    for (int index : {1, 2}) {
        pid_t tid = report.worker_tids[index];
        auto worker = read_thread_registers(tid);
        ASSERT_TRUE(worker.ok());
        SyscallState sleeping = read_syscall_state(child.pid(), tid, *worker);
        // It may have been caught between two sleeps, or (on a busy machine) still on its way
        // out of the start barrier (a futex).
        if (sleeping.in_syscall) {
            EXPECT_TRUE(sleeping.number == SYS_clock_nanosleep ||
                        sleeping.number == SYS_nanosleep || sleeping.number == SYS_futex)
                << sleeping.number;
        }
    }
}

TEST(LiveRegisters, FailsForAThreadWeDoNotTrace) {
    ChildProcess child = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report{};
    ASSERT_TRUE(child.read_report(&report, sizeof(report)));
    int err = 0;
    auto regs = read_thread_registers(child.pid(), &err);
    EXPECT_FALSE(regs.ok());
    EXPECT_EQ(err, ESRCH);
}

}  // namespace
}  // namespace dumpscope
