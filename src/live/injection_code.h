// The machine code a thread of another process runs to make one system call for dumpscope, and
// the registers that thread must resume with afterwards (x86-64).
//
// dumpscope drives the injected call through ptrace stops and restores the thread itself; the
// code only matters if dumpscope dies while the thread is inside it (SIGKILL, OOM): the thread
// then runs on, untraced, from the instruction after `syscall`, and the code must bring it back
// to where it was without touching anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "snapshot/snapshot.h"

namespace dumpscope {

// The registers a ptrace-stopped thread goes on with when it is let go without a signal: a
// system call it was interrupted in (orig_rax >= 0, rax = -ERESTARTSYS, -ERESTARTNOINTR,
// -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK) is restarted the way the kernel would (rip back over
// the 2-byte `syscall`, rax = the call again or restart_syscall); orig_rax is then -1.
X86GeneralRegisters resume_registers(const X86GeneralRegisters& stopped);

// Room an injection site needs.
inline constexpr size_t kInjectionCodeSize = 176;

struct InjectionCode {
    std::vector<uint8_t> bytes;  // at most kInjectionCodeSize
    uint64_t after_syscall = 0;  // where the thread returns after the call
};

// Code for `address`:
//   syscall                          ; whatever dumpscope set up in the registers
//   (zero_result_exits only, for a fork-like call: a zero result is the child's)
//   mov rcx, rax; jrcxz child; jmp parent
//   child: exit_group(0)             ; a clone child never runs code of the target
//   parent:
//   rt_sigprocmask(SIG_SETMASK, &signal_mask, NULL, 8)
//   mov rax/rcx/rdx/rsi/rdi/r8/r9/r10/r11, <resume values>
//   jmp [resume.rip]
// No instruction after `syscall` changes the flags, so rflags stay the thread's own.
InjectionCode build_injection_code(uint64_t address, const X86GeneralRegisters& resume,
                                   uint64_t signal_mask, bool zero_result_exits);

}  // namespace dumpscope
