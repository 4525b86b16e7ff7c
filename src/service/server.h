// `dumpscope server` in its single-process mode: an HTTP server (cpp-httplib) taking uploads on
// /submit and answering the JSON API on /api, over a SQLite index and a directory of dumps under
// --data, with worker threads processing the queue (docs/service.md).
//   DATA/crashes.db      the index and queue (crash_store.h, schema.cpp)
//   DATA/dumps/<id>      the dumps, 0600 (dump_directory.h)
#pragma once

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "analysis/symbol_locator.h"
#include "common/result.h"
#include "service/agent_hub.h"
#include "service/agent_pages.h"
#include "service/crash_store.h"
#include "service/dump_directory.h"
#include "service/rate_limiter.h"
#include "service/retention.h"
#include "service/service_context.h"
#include "service/web_pages.h"
#include "service/worker_pool.h"

namespace dumpscope::service {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8470;  // 0: any free port
    std::string data_dir = "dumpscope-data";
    std::string token;
    uint64_t max_upload_bytes = uint64_t{256} << 20;
    uint64_t uploads_per_minute = 0;  // per client address; 0: no limit
    unsigned workers = 2;
    RetentionPolicy retention;
    analysis::SymbolOptions symbols;
};

class Server {
public:
    // Opens (creating) the data directory and the database, migrating it; crashes a killed
    // server left in `processing` are queued again.
    static Result<std::unique_ptr<Server>> open(ServerOptions options);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    // Binds the listening socket; returns the port (the one chosen when the option was 0).
    Result<int> bind();
    // Starts the workers and serves until stop().
    Status serve();
    // From any thread: stops accepting, then lets the workers finish their crash.
    void stop();
    CrashStore& store() { return *store_; }

private:
    Server(ServerOptions options, std::unique_ptr<CrashStore> store, DumpDirectory dumps,
           std::unique_ptr<AgentHub> agents);
    void add_routes();

    ServerOptions options_;
    std::unique_ptr<CrashStore> store_;
    DumpDirectory dumps_;
    std::unique_ptr<AgentHub> agents_;
    Retention retention_;
    WorkerPool workers_;
    RateLimiter upload_rate_;
    ServiceContext context_;
    WebPages pages_;
    AgentPages agent_pages_;
    httplib::Server http_;
};

}  // namespace dumpscope::service
