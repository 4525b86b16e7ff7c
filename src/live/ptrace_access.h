// May dumpscope ptrace a process? Checked without touching it (no attach, no stop), and, when
// the kernel refuses, why in words a user can act on: another tracer, a kernel thread, another
// user, a process that is not dumpable, Yama's ptrace_scope, or a security module.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope {

// Success when an attach would be allowed: no tracer, and the kernel's access check for
// attaching (the one opening /proc/PID/mem makes, Yama and security modules included) passes.
// Error: "cannot attach to PID: <why>".
Status check_ptrace_access(int32_t pid);

// Why attaching to thread tid of pid was refused (EPERM), e.g. "already traced by 12 (strace)",
// "it runs as uid 0 and dumpscope as uid 65534; run dumpscope as root or as uid 0".
std::string ptrace_refusal_reason(int32_t pid, int32_t tid);

}  // namespace dumpscope
