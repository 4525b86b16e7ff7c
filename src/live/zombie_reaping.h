// Reaping a zombie that only its parent may reap: a clone made with exit signal 0 whose parent is
// the target. dumpscope makes one thread of the parent run wait4(child, NULL, __WALL | WNOHANG)
// (syscall_injector.h), stopping that one thread for well under a millisecond while the others
// run on.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace dumpscope {

// `child_pid` as the parent's pid namespace knows it (the last NSpid). Success when the parent's
// wait4 returned the child. Errors: no thread of the parent could be stopped (traced by someone
// else, gone), no injection site, the call failed.
Status reap_zombie_through_parent(int32_t parent, int32_t child_pid);

// The same through `held_tid`, a thread of `parent` the caller already holds in a ptrace
// interrupt stop (the monitor's own tracee), left in that stop with `ptrace_options` afterwards;
// `suspend_seccomp` runs the call with its seccomp filter suspended.
Status reap_zombie_with_thread(int32_t parent, int32_t held_tid, int32_t child_pid,
                               long ptrace_options, bool suspend_seccomp);

}  // namespace dumpscope
