// Which system call a stopped thread is in: PTRACE_GET_SYSCALL_INFO when the stop reports one,
// else /proc/PID/task/TID/syscall, else the saved registers (orig_rax >= 0 means "in a call";
// arguments in rdi, rsi, rdx, r10, r8, r9).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "snapshot/snapshot.h"

namespace dumpscope {

SyscallState read_syscall_state(int32_t pid, int32_t tid, const X86GeneralRegisters& regs);

// "202 0x7f.. 0x80 ... sp pc" -> in a call; "-1 sp pc" -> not; "running" -> nullopt.
std::optional<SyscallState> parse_proc_syscall(std::string_view text);

SyscallState syscall_from_registers(const X86GeneralRegisters& regs);

}  // namespace dumpscope
