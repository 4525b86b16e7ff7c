// `dumpscope agent`: runs on a machine, connects out to the server only, registers (name, host,
// kernel release, dumpscope version, allow-list), then long-polls for work
// (POST /api/agents/NAME/poll): process-list requests are answered from /proc
// (agent_processes.h); collections run one at a time on a thread of their own
// (agent_collect.h), their dump uploaded resumably (agent_upload.h) with the annotations agent,
// collection_id, trigger, target and pid, and the outcome reported. Any failed request makes it
// register again (a restarted server, or one with a fresh database, learns of it at once).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope::service {

struct AgentOptions {
    std::string server;  // http://HOST:PORT
    std::string token;
    std::string name;                // [A-Za-z0-9._-]{1,64}
    std::vector<std::string> allow;  // process names; empty: any process
    std::string work_dir;            // where dumps are written before their upload
    uint64_t chunk_bytes = 1 << 20;  // bytes per upload request
};

// Runs until `stop` is set. Errors: bad options only (a server that cannot be reached is
// retried).
Status run_agent(const AgentOptions& options, const std::atomic<bool>& stop);

}  // namespace dumpscope::service
