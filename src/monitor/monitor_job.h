// `dumpscope collect` with triggers: find the processes (one, --wait, --all, --pgid), run one
// session thread per process (ptrace ties tracees to a thread), tick them every poll interval,
// stop them all on Ctrl-C, and sum up.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "capture/collect_job.h"
#include "common/result.h"
#include "monitor/process_discovery.h"
#include "monitor/trigger_options.h"

namespace dumpscope {

struct MonitorRequest {
    CollectRequest collect;  // collect.target is the discovery's target
    TriggerOptions triggers;
    DiscoveryOptions discovery;
    std::function<void(const std::string&)> print;  // one line; called under a lock
    bool verbose = false;                           // SessionSettings::verbose
};

struct MonitorSummary {
    uint32_t processes = 0;
    uint32_t dumps = 0;
    bool interrupted = false;    // Ctrl-C / SIGTERM
    bool all_completed = false;  // every monitored process got its dumps
    std::string first_error;     // a session that could not monitor at all
};

// Errors: bad options, an OUTPUT that cannot hold several dumps, a target that does not exist.
Result<MonitorSummary> run_monitor(const MonitorRequest& request);

}  // namespace dumpscope
