// What `dumpscope agent` does with one collection: dumpscope's own capture only (collect_dump,
// or the monitor of `collect`'s triggers: run_monitor), never a shell or another program. The
// target (a PID or a name, resolved as `collect` resolves it) must answer to a name on the
// allow-list when there is one; the dump is written into `dir`, zstd-compressed when asked.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "service/agent_store.h"

namespace dumpscope::service {

struct CollectedDump {
    std::string path;
    int32_t pid = 0;
    std::string trigger;  // "manual", or the triggers in words ("cpu >= 50% for 1 s")
};

Result<CollectedDump> collect_for_server(const CollectionRecord& collection,
                                         const std::vector<std::string>& allow,
                                         const std::string& dir);

}  // namespace dumpscope::service
