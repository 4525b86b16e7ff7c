// /proc/PID/stat and /proc/PID/task/TID/stat. The comm field is in parentheses and may itself
// contain spaces and parentheses ("a) b (c"), so it ends at the LAST ')' of the line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope {

struct ProcStat {
    int32_t pid = 0;               // field 1
    std::string comm;              // field 2, without the parentheses
    char state = '?';              // 3
    int32_t ppid = 0;              // 4
    uint64_t flags = 0;            // 9 (PF_*; PF_KTHREAD = 0x00200000)
    uint64_t utime_ticks = 0;      // 14
    uint64_t stime_ticks = 0;      // 15
    int32_t priority = 0;          // 18
    int32_t nice = 0;              // 19
    int64_t num_threads = 0;       // 20
    uint64_t starttime_ticks = 0;  // 22, clock ticks after boot
    uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;  // 48-51 (0 if hidden)
};

Result<ProcStat> parse_stat(std::string_view text);

// Clock ticks (sysconf(_SC_CLK_TCK), normally 100 Hz) to nanoseconds.
uint64_t ticks_to_ns(uint64_t ticks);
uint64_t ticks_to_ns(uint64_t ticks, uint64_t ticks_per_second);

constexpr uint64_t kPfKthread = 0x00200000;

}  // namespace dumpscope
