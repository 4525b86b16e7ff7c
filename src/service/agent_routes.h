// Remote collection's routes (docs/service.md, "Agents"), all under /api and so token-checked.
// For people and scripts:
//   GET  /api/agents                      {agents: [{name, host, kernel, version, allow,
//                                         registered_at, last_seen, online}]}
//   GET  /api/agents/NAME                 one of them
//   GET  /api/agents/NAME/processes       asks the agent, waits for its answer (10 s: 504)
//   POST /api/agents/NAME/collect         {target, type, compress, trigger} -> 202 {id, status}
//   GET  /api/collections/ID              {id, agent, target, type, compress, trigger, status,
//                                         crash_id, error, created_at, started_at, finished_at}
//   GET  /api/collections?agent=NAME&limit=N   newest first
// For agents (`dumpscope agent`, agent_client.h):
//   POST /api/agents/NAME/register        {session, host, kernel, version, allow}
//   POST /api/agents/NAME/poll            {session}: held until there is work (25 s at most)
//                                         -> {processes: [request ids], collections: [...]};
//                                         404 {register: true} for an unknown agent or session
//   POST /api/agents/NAME/answers/ID      {session, processes: [...]}
//   POST /api/agents/NAME/collections/ID  {session, status: done|failed, crash_id, error}
#pragma once

#include <httplib.h>

#include "service/service_context.h"

namespace dumpscope::service {

void add_agent_routes(httplib::Server& server, ServiceContext& context);

}  // namespace dumpscope::service
