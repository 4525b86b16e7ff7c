// Source: builds a Snapshot of a frozen live process from /proc and ptrace.
#pragma once

#include "common/result.h"
#include "live/process_freezer.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Reads system info, process info (/proc/PID/{status,stat,cmdline,environ,auxv,maps,smaps}),
// every stopped thread (name, state before the stop, registers via PTRACE_GETREGSET
// NT_PRSTATUS / NT_PRFPREG / NT_X86_XSTATE, syscall it is in, CPU times, stack mapping),
// mappings, modules (ELF build-ids read from the target's memory, else from the file), open
// fds. snapshot.memory reads the target with process_vm_readv (falling back to
// /proc/PID/mem); it is valid while the process is frozen.
//
// Call it on the thread that froze the process (ptrace requests are per tracer thread). Fills
// capture.tool_version, method ("ptrace"), capture_time_unix and pause_ms so far; best-effort
// parts that failed (environ, smaps VmFlags, fds, a thread killed meanwhile) leave a line in
// capture.notes instead of failing the snapshot. Errors: the freezer is not frozen; "process
// PID exited during the dump"; unreadable required /proc files.
Result<Snapshot> snapshot_live_process(const ProcessFreezer& frozen);

}  // namespace dumpscope
