// The system call a thread is in, from text or registers (no ptrace): /proc/PID/task/TID/syscall,
// or the saved registers (orig_rax >= 0 means "in a call"; arguments in rdi, rsi, rdx, r10, r8,
// r9), as a core's NT_PRSTATUS or a minidump's context holds them.
#pragma once

#include <optional>
#include <string_view>

#include "snapshot/snapshot.h"

namespace dumpscope {

// "202 0x7f.. 0x80 ... sp pc" -> in a call; "-1 sp pc" -> not; "running" -> nullopt.
std::optional<SyscallState> parse_proc_syscall(std::string_view text);

SyscallState syscall_from_registers(const X86GeneralRegisters& regs);

}  // namespace dumpscope
