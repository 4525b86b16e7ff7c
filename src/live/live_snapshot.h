// Source: builds a Snapshot of a frozen live process from /proc and ptrace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
// `smaps_before`: /proc/PID/smaps read just before the freeze. Reading smaps walks every page
// table (about 20 ms per GiB with 4 KiB pages); when the mappings have not changed since, its
// VmFlags are used and the walk stays out of the pause (the clone source does this).
Result<Snapshot> snapshot_live_process(const ProcessFreezer& frozen,
                                       const std::string* smaps_before = nullptr);

// Threads of a process that another owner holds in ptrace-stops (the monitor keeps a process
// attached between triggers and stops it itself): the same snapshot without a ProcessFreezer.
// Every tid must be in a ptrace-stop of the calling thread; main thread first.
struct StoppedThreads {
    int32_t pid = 0;
    std::vector<int32_t> tids;
    std::vector<char> states_before;  // parallel to tids: state letter before the stop
    double paused_ms = 0;
    const std::string* smaps_before = nullptr;  // see snapshot_live_process
};
Result<Snapshot> snapshot_stopped_threads(const StoppedThreads& stopped);

}  // namespace dumpscope
