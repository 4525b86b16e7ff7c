// Which processes to monitor: one PID or name (now), a name waited for (--wait), every process
// with a name (--all, including ones that start later) or in a process group (--pgid).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dumpscope {

struct DiscoveryOptions {
    std::string target;  // PID, name, or process group id (--pgid)
    bool wait = false;   // --wait: TARGET is a name; wait for it to appear
    bool all = false;    // --all: every match, and those that appear later
    bool pgid = false;   // --pgid: TARGET is a process group id
};

class ProcessDiscovery {
public:
    static Result<ProcessDiscovery> create(const DiscoveryOptions& options);

    // Processes to start monitoring now: each pid is returned once in the discovery's life.
    // Errors: a single target that does not exist (without --wait), several processes with
    // the name (without --all).
    Result<std::vector<int32_t>> poll();

    // True when no process can still appear: a single target was found, or the group is empty.
    bool finished() const { return finished_; }
    // "process 1234", "processes named nginx", "process group 77".
    std::string describe() const;

private:
    explicit ProcessDiscovery(DiscoveryOptions options) : options_(std::move(options)) {}
    Result<std::vector<int32_t>> candidates();

    DiscoveryOptions options_;
    int32_t group_ = 0;
    std::vector<std::pair<int32_t, uint64_t>> seen_;  // pid and start time
    bool finished_ = false;
};

// Members of process group pgid, ascending (zombies left out).
Result<std::vector<int32_t>> processes_in_group(int32_t pgid);

}  // namespace dumpscope
