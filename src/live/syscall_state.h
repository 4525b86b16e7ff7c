// Which system call a stopped thread is in: PTRACE_GET_SYSCALL_INFO when the stop reports one,
// else /proc/PID/task/TID/syscall, else the saved registers (arch::syscall_from_context).
#pragma once

#include <cstdint>

#include "snapshot/snapshot.h"

namespace dumpscope {

SyscallState read_syscall_state(int32_t pid, int32_t tid, const CpuContext& regs);

}  // namespace dumpscope
