// The children of a process as /proc shows them, with what the clone code needs to know about
// each: is it still there, whose child is it, does it report its exit with a signal, is it
// traced, and its pid as its own pid namespace sees it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dumpscope {

struct ChildFacts {
    int32_t pid = 0;
    char state = '?';  // R, S, t, Z ...
    int32_t ppid = 0;
    int exit_signal = 0;  // /proc/PID/stat field 38: 0 for a clone made with no signal
    uint64_t starttime_ticks = 0;
    int32_t tracer = 0;         // TracerPid
    int32_t innermost_pid = 0;  // last NSpid: the pid its parent knows it by
};

// Union of /proc/PID/task/*/children (the children of every thread), ascending.
std::vector<int32_t> list_children(int32_t pid);

// nullopt when the process is gone.
std::optional<ChildFacts> read_child_facts(int32_t pid);

// CLOCK_BOOTTIME in clock ticks: the clock of /proc/PID/stat's starttime.
uint64_t boottime_ticks_now();

}  // namespace dumpscope
