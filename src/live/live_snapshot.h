// Source: builds a Snapshot of a frozen live process from /proc and ptrace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "live/process_freezer.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// What a clone dump keeps out of the pause (the target is stopped only while the clone is
// made): read before the freeze, or left for read_modules_and_fds() after the resume.
struct OutsideThePause {
    // /proc/PID/smaps read just before the freeze. Reading smaps walks every page table (about
    // 20 ms per GiB with 4 KiB pages); when the mappings have not changed since, its VmFlags are
    // used.
    const std::string* smaps_before = nullptr;
    const SystemInfo* system_before = nullptr;  // nothing in it depends on the target
    // Leave snapshot.modules and snapshot.fds empty: the caller reads them later, from the
    // clone's memory (a copy of the target's at the pause) and the fd table it shares.
    bool modules_and_fds_later = false;
};

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
// PID exited during the dump"; unreadable required /proc files. `outside`: see OutsideThePause
// (a plain dump reads everything here).
Result<Snapshot> snapshot_live_process(const ProcessFreezer& frozen,
                                       const OutsideThePause& outside = {});

// The modules (ELF build-ids from snapshot.memory, else from the files mapped in process `pid`)
// and the open fds of `pid`, for a snapshot taken with modules_and_fds_later: `pid` is the
// target, or its clone, which has the same mappings and shares its fd table. An unreadable fd
// table is a note.
void read_modules_and_fds(int32_t pid, Snapshot& snapshot);

// Threads of a process that another owner holds in ptrace-stops (the monitor keeps a process
// attached between triggers and stops it itself): the same snapshot without a ProcessFreezer.
// Every tid must be in a ptrace-stop of the calling thread; main thread first.
struct StoppedThreads {
    int32_t pid = 0;
    std::vector<int32_t> tids;
    std::vector<char> states_before;  // parallel to tids: state letter before the stop
    double paused_ms = 0;
    OutsideThePause outside;  // see snapshot_live_process
};
Result<Snapshot> snapshot_stopped_threads(const StoppedThreads& stopped);

}  // namespace dumpscope
