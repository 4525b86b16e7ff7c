// `dumpscope server`: an HTTP server (cpp-httplib) taking uploads on /submit and answering the
// JSON API on /api, over an index and a directory of dumps under --data, with worker threads
// processing the queue, each analysis in a child process (docs/service.md).
//   DATA/crashes.db      the index and queue (crash_store.h, schema.cpp), or a PostgreSQL
//                        database (--database postgresql://...) that several servers share
//   DATA/dumps/<id>      the dumps, 0600, or where --store says (dump_store.h)
//   DATA/symbols/        debug files and binaries by build-id (symbol_store.h)
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "analysis/symbol_locator.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "service/agent_hub.h"
#include "service/agent_pages.h"
#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/ingest_load.h"
#include "service/lease_keeper.h"
#include "service/rate_limiter.h"
#include "service/retention.h"
#include "service/service_context.h"
#include "service/symbol_routes.h"
#include "service/web_login.h"
#include "service/web_pages.h"
#include "service/web_queries.h"
#include "service/worker_pool.h"

namespace dumpscope::service {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8470;  // 0: any free port
    std::string data_dir = "dumpscope-data";
    // "": DATA/crashes.db (SQLite); else a postgresql:// URL (database.h).
    std::string database;
    // How long a claimed crash stays this server's without a renewal (crash_store.h).
    int64_t lease_ms = 60'000;
    std::string store_url;  // --store: "" (DATA/dumps), file:DIR or s3://BUCKET?... (dump_store.h)
    std::string token;
    uint64_t max_upload_bytes = uint64_t{256} << 20;
    uint64_t uploads_per_minute = 0;                // per client address; 0: no limit
    uint64_t max_symbol_bytes = uint64_t{1} << 30;  // PUT /api/symbols/ID
    unsigned workers = 2;
    RetentionPolicy retention;
    analysis::SymbolOptions symbols;
    // Each analysis runs in a child process: this program, with these limits; a crash whose
    // analyses are killed or time out `analysis_attempts` times fails. Empty: dumpscope-analysis
    // from libexec/dumpscope/ beside the running program (its build tree or its installation),
    // else the running program itself (it takes the same arguments).
    std::string analysis_program;
    AnalysisLimits analysis_limits;
    int64_t analysis_attempts = 3;
    // Analyses wait while this many uploads are being stored (ingest_load.h; 0: never wait).
    int defer_analyses_at = IngestLoad::default_busy_at();
};

class Server {
public:
    // Opens (creating) the data directory and the database, migrating it; crashes a killed
    // server left in `processing` are queued again (with PostgreSQL once their lease expired).
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
    Server(ServerOptions options, std::unique_ptr<CrashStore> store,
           std::unique_ptr<DumpStore> dumps, SymbolService symbols, Database page_db,
           std::unique_ptr<AgentHub> agents);
    void add_routes();

    ServerOptions options_;
    std::unique_ptr<CrashStore> store_;
    std::unique_ptr<DumpStore> dumps_;
    SymbolService symbols_;
    std::unique_ptr<AgentHub> agents_;
    Retention retention_;
    IngestLoad ingest_load_;
    WorkerPool workers_;
    LeaseKeeper leases_;
    RateLimiter upload_rate_;
    ServiceContext context_;
    WebLogin web_login_;
    WebQueries web_queries_;
    WebPages pages_;
    AgentPages agent_pages_;
    httplib::Server http_;
    UniqueFd analysis_program_;  // what the analyses run, held open (see Server::open)
    // The listening socket, seen by cpp-httplib's socket-options hook before it binds it.
    std::atomic<int> listen_fd_{-1};
};

}  // namespace dumpscope::service
