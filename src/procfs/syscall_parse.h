// The system call a thread is in, from /proc/PID/task/TID/syscall (no ptrace). From saved
// registers: arch::syscall_from_context.
#pragma once

#include <optional>
#include <string_view>

#include "snapshot/snapshot.h"

namespace dumpscope {

// "202 0x7f.. 0x80 ... sp pc" -> in a call; "-1 sp pc" -> not; "running" -> nullopt.
std::optional<SyscallState> parse_proc_syscall(std::string_view text);

}  // namespace dumpscope
