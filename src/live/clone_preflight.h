// What decides whether a clone may be made, checked before and while the target is stopped:
// room for copy-on-write, and the seccomp filters that an injected clone() would go through.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope {

// Copy-on-write costs at most the target's private anonymous memory (resident and swapped:
// RssAnon + VmSwap of /proc/PID/status), if it rewrote all of it during the dump. That, plus an
// eighth and 64 MiB, must fit in MemAvailable and in the free room of the target's memory cgroup
// and each of its parents (v1 or v2). Error: the one-line reason with the numbers.
Status check_copy_on_write_room(int32_t pid);

// "Seccomp:" of /proc/PID/task/TID/status: 0 none, 1 strict, 2 filter; -1 if unreadable.
int seccomp_mode(int32_t pid, int32_t tid);

// PTRACE_O_SUSPEND_SECCOMP is allowed to us: CAP_SYS_ADMIN in our effective set and no seccomp
// filter on dumpscope itself.
bool can_suspend_seccomp();

}  // namespace dumpscope
