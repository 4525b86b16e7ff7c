#include "service/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "live/proc_files.h"
#include "service/agent_routes.h"
#include "service/api_routes.h"
#include "service/private_dir.h"
#include "service/submit_route.h"
#include "service/upload_routes.h"

namespace dumpscope::service {

namespace {

// Room for the form's own bytes and the annotations around the dump.
constexpr uint64_t kFormOverhead = uint64_t{2} << 20;
// cpp-httplib serves a kept-alive connection on one thread until it closes: enough threads for
// the uploaders a busy fleet keeps connected at once, or the rest wait in the pool's queue.
constexpr size_t kHttpThreads = 64;
// cpp-httplib listens with a backlog of 5 (compiled into Debian's library): under 50 uploaders
// that reconnect, SYNs overflowed it and each dropped one cost its client a second's retransmit.
constexpr int kListenBacklog = 1024;

// While the database (PostgreSQL) is unreachable: the server stays up, the client retries.
void send_database_unavailable(httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_content("the database is unreachable; retry later\n", "text/plain; charset=utf-8");
}

// dumpscope-analysis beside the running program: BIN/libexec/dumpscope/ in the build tree,
// PREFIX/libexec/dumpscope/ for PREFIX/bin/dumpscope installed; else the running program.
std::string default_analysis_program() {
    if (auto self = read_link("/proc/self/exe"); self.ok()) {
        const std::string dir = self->substr(0, self->rfind('/'));
        for (const std::string& candidate : {dir + "/libexec/dumpscope/dumpscope-analysis",
                                             dir + "/../libexec/dumpscope/dumpscope-analysis"}) {
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
    }
    return "/proc/self/exe";
}

}  // namespace

Result<std::unique_ptr<Server>> Server::open(ServerOptions options) {
    if (options.analysis_program.empty()) options.analysis_program = default_analysis_program();
    // The analyses run this program: better refused now than every crash failing later.
    if (::access(options.analysis_program.c_str(), X_OK) != 0)
        return errno_error("cannot run the analysis program " + options.analysis_program);
    // Started through a descriptor held from now on, as /proc/self/exe is: after an upgrade
    // replaced the file, the analyses still run the build that matches this server.
    UniqueFd pinned_program;
    if (options.analysis_program != "/proc/self/exe") {
        pinned_program.reset(::open(options.analysis_program.c_str(), O_RDONLY | O_CLOEXEC));
        if (!pinned_program.valid())
            return errno_error("cannot open the analysis program " + options.analysis_program);
        options.analysis_program = fmt::format("/proc/{}/fd/{}", ::getpid(), pinned_program.get());
    }
    DS_TRY(make_private_dir(options.data_dir));
    auto dumps = open_dump_store(options.store_url, options.data_dir);
    if (!dumps.ok()) return dumps.error();
    StoreOptions store_options;
    store_options.lease_ms = options.lease_ms;
    const std::string database =
        options.database.empty() ? options.data_dir + "/crashes.db" : options.database;
    auto store = CrashStore::open(database, store_options);
    if (!store.ok()) return store.error();
    auto symbol_store = SymbolStore::open(options.data_dir);
    if (!symbol_store.ok()) return symbol_store.error();
    auto symbol_index = SymbolIndex::open(database);
    if (!symbol_index.ok()) return symbol_index.error();
    // The workers' analysis reads the store as one more --symbols directory (its .build-id
    // layout), after the ones given: no network.
    options.symbols.symbol_dirs.push_back(symbol_store->dir());
    SymbolService symbols{std::move(*symbol_store), std::move(*symbol_index),
                          options.max_symbol_bytes};
    auto agent_store = AgentStore::open(database);
    if (!agent_store.ok()) return agent_store.error();
    auto uploads = UploadStore::open(options.data_dir);
    if (!uploads.ok()) return uploads.error();
    auto agents = std::make_unique<AgentHub>(std::move(*agent_store), std::move(*uploads));
    // The pages' queries on a connection of their own (web_queries.h), opened once the store
    // has migrated the schema.
    auto page_db = Database::open(database);
    if (!page_db.ok()) return page_db.error();
    auto server = std::unique_ptr<Server>(new Server(std::move(options), std::move(*store),
                                                     std::move(*dumps), std::move(symbols),
                                                     std::move(*page_db), std::move(agents)));
    server->analysis_program_ = std::move(pinned_program);
    return server;
}

Server::Server(ServerOptions options, std::unique_ptr<CrashStore> store,
               std::unique_ptr<DumpStore> dumps, SymbolService symbols, Database page_db,
               std::unique_ptr<AgentHub> agents)
    : options_(std::move(options)),
      store_(std::move(store)),
      dumps_(std::move(dumps)),
      symbols_(std::move(symbols)),
      agents_(std::move(agents)),
      retention_(*store_, *dumps_, options_.retention),
      ingest_load_(options_.defer_analyses_at),
      workers_(*store_, *dumps_, retention_,
               AnalysisRun{options_.analysis_program, options_.symbols, options_.analysis_limits},
               options_.analysis_attempts, &ingest_load_),
      leases_(*store_, workers_),
      upload_rate_(options_.uploads_per_minute),
      context_{*store_,      *dumps_,    workers_,     options_.token, options_.max_upload_bytes,
               upload_rate_, retention_, agents_.get()},
      web_login_(options_.token),
      web_queries_(std::move(page_db)),
      pages_(context_, web_login_, web_queries_),
      agent_pages_(context_, pages_) {
    context_.web_login = &web_login_;
    context_.ingest_load = &ingest_load_;
    workers_.on_processed([this](const std::string& id, const ProcessedCrash& crash) {
        if (Status indexed = symbols_.index->record(id, crash.modules); !indexed.ok())
            fmt::print(stderr, "dumpscope server: crash {}: {}\n", id, indexed.error().message);
    });
    add_routes();
}

Server::~Server() { stop(); }

void Server::add_routes() {
    http_.set_payload_max_length(std::max(options_.max_upload_bytes, options_.max_symbol_bytes) +
                                 kFormOverhead);
    // An uploader on a slow link may pause longer than the library's 5 s.
    http_.set_read_timeout(std::chrono::seconds(30));
    // Headers and body go out in separate writes: without TCP_NODELAY the body waits for the
    // client's delayed ACK (40 ms on Linux) on every answer.
    http_.set_tcp_nodelay(true);
    http_.set_socket_options([this](int fd) {
        httplib::default_socket_options(fd);
        listen_fd_ = fd;
    });
    // Requests wait on the disk (each dump and the index are synced), not only on the CPU: more
    // threads than cpp-httplib's default of 8 keep the queue short with many uploaders.
    http_.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (refuse_unauthorized_api(context_, req, res))
            return httplib::Server::HandlerResponse::Handled;
        if (!store_->available()) {
            send_database_unavailable(res);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // A request that failed because the connection to the database broke meanwhile: 503. Only
    // the status and a header: the body's length is already counted when this runs.
    http_.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
        if (res.status == 500 && !store_->available()) {
            res.status = 503;
            res.set_header("Retry-After", "5");
        }
    });
    http_.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& error) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            fmt::print(stderr, "dumpscope server: {} {}: {}\n", req.method, req.path, what);
            res.status = 500;
            res.set_content("internal error\n", "text/plain");
        });
    http_.Post("/submit", [this](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
        handle_submit(context_, req, res, reader);
    });
    add_api_routes(http_, context_);
    add_symbol_routes(http_, context_, symbols_);
    add_agent_routes(http_, context_);
    add_upload_routes(http_, context_);
    pages_.add_routes(http_);
    agent_pages_.add_routes(http_);
}

Result<int> Server::bind() {
    const std::string where = fmt::format("{}:{}", options_.host, options_.port);
    int port = options_.port;
    if (port == 0) {
        port = http_.bind_to_any_port(options_.host);
        if (port <= 0) return errno_error("cannot listen on " + where);
    } else if (!http_.bind_to_port(options_.host, options_.port)) {
        return errno_error("cannot listen on " + where);
    }
    // listen() again on a listening socket sets its backlog anew.
    if (::listen(listen_fd_, kListenBacklog) != 0)
        return errno_error(fmt::format("cannot set the listen backlog on {}", where));
    return port;
}

Status Server::serve() {
    // What a smaller quota or cap left over from the last run, batch by batch; then after every
    // upload and every processed crash.
    for (;;) {
        auto retained = retention_.enforce();
        if (!retained.ok())
            fmt::print(stderr, "dumpscope server: retention: {}\n", retained.error().message);
        if (!retained.ok() || *retained < options_.retention.max_deletions) break;
    }
    leases_.start();
    workers_.start(options_.workers);
    workers_.notify();
    if (!http_.listen_after_bind()) {
        stop();
        return Error{"the HTTP server stopped with an error"};
    }
    stop();
    return {};
}

void Server::stop() {
    agents_->stop();  // held agent polls and process-list waits end now
    http_.stop();
    store_->stop_waiting();
    workers_.stop();
    // After the workers: their leases are kept while they finish.
    leases_.stop();
}

}  // namespace dumpscope::service
