// The watch loop for one process: sample /proc every poll interval and, for signal, crash and
// exit triggers, stay attached and handle ptrace events in between. Dumps when a trigger fires
// (-n dumps at least -s seconds apart), prints one line per state change and per dump, and
// leaves the process running and untraced on every way out.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "monitor/trigger_options.h"

namespace dumpscope {

struct SessionSettings {
    CollectRequest collect;  // output, format, plan, overwrite; trigger filled per dump
    TriggerOptions triggers;
    std::function<void(const std::string&)> print;  // one line, thread-safe
    // --verbose: also a line per /proc sample ("sample N: cpu 3%, memory 33 MB, threads 2") and
    // per signal passed on without a dump, so that what the monitor saw can be followed.
    bool verbose = false;
};

struct SessionOutcome {
    uint32_t dumps = 0;
    std::vector<std::string> paths;
    bool completed = false;     // every wanted dump written
    bool target_ended = false;  // the process exited (or crashed) first
    bool cancelled = false;     // Ctrl-C or the coordinator's stop
    std::string error;          // could not monitor at all (attach refused, ...)
};

// Runs on the calling thread until done. `stop` is checked after every wake-up; the caller
// wakes this thread out of a blocking wait with the monitor's tick signal (tick_signal.h).
SessionOutcome run_session(int32_t pid, const SessionSettings& settings,
                           const std::atomic<bool>& stop);

}  // namespace dumpscope
