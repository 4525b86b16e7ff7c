// What the monitor waits for: the triggers of `dumpscope collect` and how often to dump.
// Plain data filled by the CLI, checked by validate().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

struct TriggerOptions {
    // /proc conditions, checked every poll_ms.
    std::optional<double> cpu_above;       // --cpu PCT: 100 per core, held for `seconds`
    std::optional<double> cpu_below;       // --cpu-below PCT, held for `seconds`
    std::vector<uint64_t> mem_above_mb;    // --mem MB[,MB...]: one dump per threshold, in order
    std::optional<uint64_t> mem_below_mb;  // --mem-below MB
    std::optional<int64_t> threads;        // --threads N: N or more threads
    std::optional<int64_t> fds;            // --fds N: N or more open descriptors
    std::optional<double> hang_seconds;    // --hang S: no progress for S seconds
    std::optional<int32_t> hang_thread;    // --hang-thread TID: that thread stuck in one syscall
    // Events seen while attached with ptrace.
    std::vector<int> signals;     // --signal SIG[,SIG...]
    bool crash = false;           // --crash: fatal SIGSEGV, SIGBUS, SIGFPE, ...
    bool crash_continue = false;  // --crash-continue: also handled ones, and go on
    bool exit = false;            // --exit
    // Rhythm.
    uint32_t count = 1;  // -n: dumps, then stop
    bool count_given = false;
    double seconds = 10;      // -s: CPU hold time and minimum time between dumps
    uint32_t poll_ms = 1000;  // --poll (-pf)

    bool any() const;             // at least one trigger: otherwise collect dumps at once
    bool needs_ptrace() const;    // signal, crash or exit: stay attached
    bool needs_sampling() const;  // a /proc condition
    // Dumps to write: -n, or with a --mem list and no -n, one per threshold.
    uint32_t dumps_wanted() const;
    Status validate() const;
    // "cpu >= 90% for 10 s, crash" for the start line.
    std::string describe() const;
};

// The signals --crash waits for.
bool is_crash_signal(int signo);

}  // namespace dumpscope
