#include "cli/server_command.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "analysis/debug_file_cache.h"
#include "service/database.h"
#include "service/server.h"
#include "service/sql_parameters.h"

namespace dumpscope {

namespace {

struct ListenAddress {
    std::string host;
    int port = 0;
};

// HOST:PORT, [IPV6]:PORT.
std::optional<ListenAddress> parse_listen(const std::string& text) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    ListenAddress out;
    out.host = text.substr(0, colon);
    if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
        out.host = out.host.substr(1, out.host.size() - 2);
    const std::string port = text.substr(colon + 1);
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || end != port.data() + port.size() || out.port < 0 || out.port > 65535)
        return std::nullopt;
    return out;
}

}  // namespace

void ServerCommand::add_to(CLI::App& app) {
    command_ = app.add_subcommand(
        "server", "The dump service: take Breakpad/Crashpad uploads, analyze them, serve the API");
    command_->add_option("--listen", listen_, "HOST:PORT to listen on (port 0: any free port)")
        ->capture_default_str();
    command_->add_option("--data", data_, "Directory of the database and the dumps")
        ->capture_default_str();
    command_->add_option("--store", store_,
                         "Where the dumps go: file:DIR (DIR/dumps, e.g. shared storage) or "
                         "s3://BUCKET?endpoint=URL&region=R (credentials: AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY); default DATA/dumps");
    command_->add_option("--token", token_,
                         "The API's bearer token (default: $DUMPSCOPE_TOKEN; one is required)");
    command_->add_option("--database", database_,
                         "postgresql://USER@HOST:PORT/DB: an index and queue several servers "
                         "share (default: $DUMPSCOPE_DATABASE, else SQLite in the data directory)");
    // For the tests: how long a dead server's crash waits before another server takes it.
    command_->add_option("--lease-seconds", lease_seconds_)
        ->group("")
        ->check(CLI::Range(uint64_t{1}, uint64_t{86400}));
    command_->add_option("--max-upload-mb", max_upload_mb_, "Largest dump accepted, in MiB")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
    command_
        ->add_option("--max-symbol-mb", max_symbol_mb_,
                     "Largest debug file or binary accepted by PUT /api/symbols/ID, in MiB")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
    command_
        ->add_option("--max-uploads-per-minute", uploads_per_minute_,
                     "Uploads accepted per minute from one client address (0: no limit)")
        ->capture_default_str();
    command_
        ->add_option("--workers", workers_,
                     "Threads processing uploaded dumps (0: an ingest-only server; others sharing "
                     "its database process the queue)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 256u));
    command_
        ->add_option("--quota-mb", quota_mb_,
                     "Total MiB of stored dumps; past it the oldest crashes are deleted (0: none)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40));
    command_
        ->add_option("--max-per-signature", max_per_signature_,
                     "Processed crashes kept per signature; the oldest beyond go (0: no cap)")
        ->capture_default_str();
    command_
        ->add_option("--keep-first", keep_first_,
                     "The first crashes of each signature the quota and the cap never delete")
        ->capture_default_str();
    command_
        ->add_option("--keep-last", keep_last_,
                     "The last crashes of each signature the quota never deletes")
        ->capture_default_str();
    command_
        ->add_option("--symbols", symbol_dirs_,
                     "A directory of symbol files for the analysis; repeatable")
        ->allow_extra_args(false);
    command_->add_flag("--no-cache", no_cache_, "Do not keep uncompressed copies of debug files");
    command_
        ->add_option("--analysis-timeout", analysis_timeout_,
                     "Seconds one analysis may take (wall clock, and CPU time)")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86400u));
    command_
        ->add_option("--analysis-memory-mb", analysis_memory_mb_,
                     "MiB of memory one analysis may allocate, the dump's own mapping aside (0: "
                     "no limit)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
    command_
        ->add_option("--analysis-attempts", analysis_attempts_,
                     "Analyses of one crash killed or timed out before it fails")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    command_
        ->add_option("--defer-analyses-at", defer_analyses_at_,
                     "Uploads being stored from which the analyses wait (for at most 30 s in a "
                     "row) and leave the CPU to the uploads (0: never wait)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
}

int ServerCommand::run() const {
    const auto listen = parse_listen(listen_);
    if (!listen) {
        fmt::print(stderr, "dumpscope server: --listen {}: expected HOST:PORT\n", listen_);
        return 2;
    }
    service::ServerOptions options;
    options.host = listen->host;
    options.port = listen->port;
    options.data_dir = data_;
    options.store_url = store_;
    options.token = token_;
    if (options.token.empty()) {
        if (const char* env = std::getenv("DUMPSCOPE_TOKEN")) options.token = env;
    }
    if (options.token.empty()) {
        fmt::print(stderr,
                   "dumpscope server: the API needs a token: --token TOKEN or $DUMPSCOPE_TOKEN\n");
        return 2;
    }
    options.database = database_;
    if (options.database.empty()) {
        if (const char* env = std::getenv("DUMPSCOPE_DATABASE")) options.database = env;
    }
    if (!options.database.empty() && !service::Database::is_postgresql_url(options.database)) {
        fmt::print(stderr,
                   "dumpscope server: --database {}: expected a postgresql:// URL (without it, "
                   "SQLite in the data directory)\n",
                   service::redact_database_url(options.database));
        return 2;
    }
    options.lease_ms = static_cast<int64_t>(lease_seconds_) * 1000;
    options.max_upload_bytes = max_upload_mb_ << 20;
    options.max_symbol_bytes = max_symbol_mb_ << 20;
    options.workers = workers_;
    options.uploads_per_minute = uploads_per_minute_;
    options.symbols.symbol_dirs = symbol_dirs_;
    options.retention.quota_bytes = quota_mb_ << 20;
    options.retention.max_per_signature = max_per_signature_;
    options.retention.keep_first = keep_first_;
    options.retention.keep_last = keep_last_;
    if (!no_cache_) options.symbols.cache_dir = analysis::DebugFileCache::default_directory();
    options.analysis_limits.timeout = std::chrono::seconds(analysis_timeout_);
    options.analysis_limits.memory_mb = analysis_memory_mb_;
    options.analysis_attempts = analysis_attempts_;
    options.defer_analyses_at = defer_analyses_at_;

    // The signals that stop the server are taken by one thread with sigwait(): blocked here,
    // before any thread starts, so every thread inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto server = service::Server::open(std::move(options));
    if (!server.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", server.error().message);
        return 1;
    }
    auto port = (*server)->bind();
    if (!port.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", port.error().message);
        return 1;
    }
    const bool v6 = listen->host.find(':') != std::string::npos;
    fmt::print("listening on http://{}{}{}:{}\n", v6 ? "[" : "", listen->host, v6 ? "]" : "",
               *port);
    std::fflush(stdout);
    if (const int64_t requeued = (*server)->store().requeued_at_start(); requeued > 0)
        fmt::print(stderr, "dumpscope server: {} crash(es) interrupted mid-analysis queued again\n",
                   requeued);
    fmt::print(stderr, "dumpscope server: database {}, server id {}\n",
               (*server)->store().database_name(), (*server)->store().owner());

    service::Server* running = server->get();
    std::thread signal_waiter([running, stop_signals] {
        int received = 0;
        sigwait(&stop_signals, &received);
        running->stop();
    });
    const Status served = running->serve();
    // Wakes the waiter if no signal came (the server stopped by itself): a signal to the process,
    // blocked in every thread, is taken by the waiter's sigwait() (or stays pending, harmlessly,
    // if the waiter already took one).
    ::kill(::getpid(), SIGTERM);
    signal_waiter.join();
    if (!served.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", served.error().message);
        return 1;
    }
    return 0;
}

}  // namespace dumpscope
