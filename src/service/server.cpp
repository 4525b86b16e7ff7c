#include "service/server.h"

#include <fmt/format.h>

#include <chrono>

#include "service/agent_routes.h"
#include "service/api_routes.h"
#include "service/submit_route.h"
#include "service/upload_routes.h"

namespace dumpscope::service {

namespace {

// Room for the form's own bytes and the annotations around the dump.
constexpr uint64_t kFormOverhead = uint64_t{2} << 20;

}  // namespace

Result<std::unique_ptr<Server>> Server::open(ServerOptions options) {
    auto dumps = DumpDirectory::open(options.data_dir);
    if (!dumps.ok()) return dumps.error();
    auto store = CrashStore::open(options.data_dir + "/crashes.db");
    if (!store.ok()) return store.error();
    auto agent_store = AgentStore::open(options.data_dir + "/crashes.db");
    if (!agent_store.ok()) return agent_store.error();
    auto uploads = UploadStore::open(options.data_dir);
    if (!uploads.ok()) return uploads.error();
    auto agents = std::make_unique<AgentHub>(std::move(*agent_store), std::move(*uploads));
    return std::unique_ptr<Server>(
        new Server(std::move(options), std::move(*store), std::move(*dumps), std::move(agents)));
}

Server::Server(ServerOptions options, std::unique_ptr<CrashStore> store, DumpDirectory dumps,
               std::unique_ptr<AgentHub> agents)
    : options_(std::move(options)),
      store_(std::move(store)),
      dumps_(std::move(dumps)),
      agents_(std::move(agents)),
      retention_(*store_, dumps_, options_.retention),
      workers_(*store_, dumps_, retention_, options_.symbols),
      upload_rate_(options_.uploads_per_minute),
      context_{*store_,      dumps_,     workers_,     options_.token, options_.max_upload_bytes,
               upload_rate_, retention_, agents_.get()},
      pages_(context_),
      agent_pages_(context_, pages_) {
    add_routes();
}

Server::~Server() { stop(); }

void Server::add_routes() {
    http_.set_payload_max_length(options_.max_upload_bytes + kFormOverhead);
    // An uploader on a slow link may pause longer than the library's 5 s.
    http_.set_read_timeout(std::chrono::seconds(30));
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        return refuse_unauthorized_api(context_, req, res)
                   ? httplib::Server::HandlerResponse::Handled
                   : httplib::Server::HandlerResponse::Unhandled;
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
    add_agent_routes(http_, context_);
    add_upload_routes(http_, context_);
    pages_.add_routes(http_);
    agent_pages_.add_routes(http_);
}

Result<int> Server::bind() {
    const std::string where = fmt::format("{}:{}", options_.host, options_.port);
    if (options_.port == 0) {
        const int port = http_.bind_to_any_port(options_.host);
        if (port <= 0) return errno_error("cannot listen on " + where);
        return port;
    }
    if (!http_.bind_to_port(options_.host, options_.port))
        return errno_error("cannot listen on " + where);
    return options_.port;
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
    workers_.start(options_.workers);
    workers_.notify();
    if (!http_.listen_after_bind()) {
        workers_.stop();
        return Error{"the HTTP server stopped with an error"};
    }
    workers_.stop();
    return {};
}

void Server::stop() {
    agents_->stop();  // held agent polls and process-list waits end now
    http_.stop();
    workers_.stop();
}

}  // namespace dumpscope::service
