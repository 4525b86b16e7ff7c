// What the HTTP routes share: the store, the dump store, the workers to wake, the API token
// the upload limits (size, rate per client) and retention.
#pragma once

#include <cstdint>
#include <string>

#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/ingest_load.h"
#include "service/rate_limiter.h"
#include "service/retention.h"
#include "service/web_login.h"
#include "service/worker_pool.h"

namespace dumpscope::service {

class AgentHub;

struct ServiceContext {
    CrashStore& store;
    DumpStore& dumps;
    WorkerPool& workers;
    std::string token;
    uint64_t max_upload_bytes = 0;
    RateLimiter& upload_rate;
    Retention& retention;
    // Remote collection: agents, collections, resumable uploads (agent_hub.h).
    AgentHub* agents = nullptr;
    // Who may see the web UI's pages (web_login.h); set by the server before it serves.
    WebLogin* web_login = nullptr;
    // The uploads in progress, which the analyses make way for (ingest_load.h).
    IngestLoad* ingest_load = nullptr;
};

}  // namespace dumpscope::service
