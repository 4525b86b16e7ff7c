// `dumpscope server --database postgresql://...`: real servers over a real PostgreSQL cluster
// (Debian's postgresql 15, initdb in a temporary directory, run as the `postgres` user since
// initdb refuses root, listening on a free port of 127.0.0.1). The data is checked with psql, an
// independent reader: uploads processed as in SQLite mode; two servers sharing one database and
// one data directory, every crash claimed once; a server killed mid-analysis, its crash taken by
// the other once the lease expired (and not before: the lease is renewed while it lives); the
// database stopped and restarted under running servers (503 meanwhile, then processing again);
// the schema versioned, migrated once by servers starting together, kept across restarts.
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "service_support.h"

namespace {

using namespace service_support;

const std::string kPostgresBin = "/usr/lib/postgresql/15/bin";

int free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
        throw std::runtime_error("cannot find a free port");
    ::close(fd);
    return ntohs(address.sin_port);
}

// A PostgreSQL cluster of the test's own: a temporary directory owned by `postgres` (data, log,
// socket), started on a free port; stopped (immediate) and removed on destruction.
class PostgresCluster {
public:
    PostgresCluster() {
        try {
            create();
        } catch (...) {
            if (running_) (void)pg_ctl({"stop", "-m", "immediate"});
            std::error_code ignored;
            if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
            throw;
        }
    }
    ~PostgresCluster() {
        if (running_) (void)pg_ctl({"stop", "-m", "immediate"});
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    std::string url(const std::string& database) const {
        return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
    }
    // A new empty database for one test.
    std::string new_database() {
        const std::string name = "test_" + std::to_string(++databases_);
        const CommandResult made = psql("postgres", "CREATE DATABASE " + name);
        if (made.exit_code != 0) throw std::runtime_error("CREATE DATABASE failed: " + made.err);
        return name;
    }
    // psql -At: rows as lines, columns separated by '|'.
    CommandResult psql(const std::string& database, const std::string& sql) const {
        return run({"psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", url(database), "-c", sql}, 60);
    }
    std::string query(const std::string& database, const std::string& sql) const {
        const CommandResult result = psql(database, sql);
        EXPECT_EQ(result.exit_code, 0) << sql << ": " << result.err;
        std::string out = result.out;
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    }
    // Fast shutdown: the servers' connections are ended.
    void stop() {
        const CommandResult stopped = pg_ctl({"stop", "-m", "fast"});
        ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
        running_ = false;
    }
    void start_again() {
        running_ = start();
        ASSERT_TRUE(running_) << log();
    }
    void restart() {
        const CommandResult restarted =
            pg_ctl({"restart", "-m", "fast", "-o", "-p " + std::to_string(port_)});
        ASSERT_EQ(restarted.exit_code, 0) << restarted.err << log();
    }
    std::string log() const { return file_text(dir_ + "/log"); }

private:
    std::string data() const { return dir_ + "/data"; }
    void create() {
        const passwd* user = ::getpwnam("postgres");
        if (user == nullptr) throw std::runtime_error("no `postgres` user: make deps");
        char name[] = "/tmp/dumpscope-pg-XXXXXX";
        if (::mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = name;
        if (::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0)
            throw std::runtime_error("cannot give " + dir_ + " to postgres");
        const CommandResult made =
            as_postgres({kPostgresBin + "/initdb", "-D", data(), "-U", "postgres", "--auth=trust",
                         "-E", "UTF8", "--locale=C", "--no-sync"});
        if (made.exit_code != 0) throw std::runtime_error("initdb failed: " + made.err);
        // A test cluster: no durability to pay for, a socket in its own directory.
        std::ofstream conf(data() + "/postgresql.conf", std::ios::app);
        conf << "listen_addresses = '127.0.0.1'\nunix_socket_directories = '" << dir_
             << "'\nfsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
                "max_connections = 50\nshared_buffers = 16MB\n";
        conf.close();
        for (int tries = 0; tries < 3 && !running_; ++tries) {
            port_ = free_tcp_port();
            running_ = start();
        }
        if (!running_) throw std::runtime_error("PostgreSQL did not start: " + log());
    }

    static CommandResult as_postgres(std::vector<std::string> argv) {
        argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
        return run(argv, 120);
    }
    CommandResult pg_ctl(std::vector<std::string> args) const {
        std::vector<std::string> argv = {
            kPostgresBin + "/pg_ctl", "-D", data(), "-l", dir_ + "/log", "-w", "-t", "60"};
        argv.insert(argv.end(), args.begin(), args.end());
        return as_postgres(argv);
    }
    bool start() const {
        return pg_ctl({"start", "-o", "-p " + std::to_string(port_)}).exit_code == 0;
    }

    std::string dir_;
    int port_ = 0;
    bool running_ = false;
    int databases_ = 0;
};

// `dumpscope server --database URL` over `data`, with more options.
std::vector<std::string> pg_options(const std::string& url, std::vector<std::string> more = {}) {
    more.insert(more.begin(), {"--database", url});
    return more;
}

std::string upload(const ServerProcess& server, const std::string& dump,
                   const std::vector<std::pair<std::string, std::string>>& annotations = {}) {
    return crash_id_of(submit(server, form_body(annotations, dump)));
}

// What differs between two servers' answers for the same upload by nature: the id, the times,
// and the dump's path (DATA/dumps/ID) in the analysis and in a reader's error.
json comparable(const json& crash, const std::string& data) {
    if (!crash.is_object()) return crash;
    std::string text = crash.dump();
    const std::string path = data + "/dumps/" + crash.value("id", "");
    for (size_t at = text.find(path); at != std::string::npos; at = text.find(path, at))
        text.replace(at, path.size(), "DUMP");
    json out = json::parse(text);
    for (const char* key : {"id", "received_at", "processed_at"}) out.erase(key);
    return out;
}

// The claim of one crash: status|attempt|claimed_by.
std::string claim_of(PostgresCluster& pg, const std::string& db, const std::string& id) {
    return pg.query(db,
                    "SELECT status || '|' || attempt || '|' || COALESCE(claimed_by, '') FROM "
                    "crashes WHERE id = '" +
                        id + "'");
}

bool claimed_by_pid(const std::string& claim, pid_t pid) {
    // Built by append: g++ 12 at -O3 warns falsely (-Wrestrict) on ":" + std::string.
    std::string needle(":");
    needle += std::to_string(pid);
    needle += ':';
    return claim.find(needle) != std::string::npos;
}

// Polls `done` every 50 ms for up to `seconds`.
template <typename Done>
bool wait_for(Done done, int seconds = kGenerousSeconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

TEST(ServicePostgres, ProcessesUploadsAndAnswersAsSqliteModeDoes) {
    PostgresCluster pg;
    const std::string db = pg.new_database();
    TempDir sqlite_data, pg_data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    ServerProcess sqlite_server(sqlite_data.path());
    ServerProcess pg_server(pg_data.path(), pg_options(pg.url(db)));

    const std::vector<std::pair<std::string, std::string>> annotations = {
        {"prod", "pg-test"}, {"ver", "1.2.3"}, {"note", "it's \"quoted\""}};
    const std::string sqlite_id = upload(sqlite_server, dump, annotations);
    const std::string pg_id = upload(pg_server, dump, annotations);
    const std::string sqlite_bad = upload(sqlite_server, "not a dump at all");
    const std::string pg_bad = upload(pg_server, "not a dump at all");
    ASSERT_FALSE(sqlite_id.empty() || pg_id.empty() || sqlite_bad.empty() || pg_bad.empty());

    const json from_sqlite = wait_until_done(sqlite_server, sqlite_id);
    const json from_pg = wait_until_done(pg_server, pg_id);
    ASSERT_EQ(from_pg.value("status", ""), "processed") << from_pg.dump(1);
    EXPECT_EQ(comparable(from_pg, pg_data.path()), comparable(from_sqlite, sqlite_data.path()));
    const json bad_sqlite = wait_until_done(sqlite_server, sqlite_bad);
    const json bad_pg = wait_until_done(pg_server, pg_bad);
    EXPECT_EQ(bad_pg.value("status", ""), "failed");
    EXPECT_TRUE(bad_pg.at("error").is_string());
    EXPECT_EQ(comparable(bad_pg, pg_data.path()), comparable(bad_sqlite, sqlite_data.path()));

    // Lists and top crashers: the same, times aside.
    const std::string signature = from_pg.at("signature").get<std::string>();
    for (const std::string& path :
         {std::string("/api/signatures"), "/api/crashes?program=" + from_pg.value("program", "")}) {
        json a = get_json(pg_server, path), b = get_json(sqlite_server, path);
        for (json* list : {&a, &b})
            for (auto& [name, rows] : list->items())
                for (json& row : rows)
                    for (const char* key : {"id", "received_at", "first_seen", "last_seen"})
                        row.erase(key);
        EXPECT_EQ(a, b) << path;
    }
    const json listed = get_json(pg_server, "/api/crashes?limit=10");
    ASSERT_EQ(listed.at("crashes").size(), 2u);
    EXPECT_EQ(listed.at("crashes")[0].value("id", ""), pg_bad);  // newest first
    httplib::Client c = pg_server.client();
    auto downloaded = c.Get("/api/crashes/" + pg_id + "/dump", with_token());
    ASSERT_TRUE(downloaded);
    EXPECT_EQ(downloaded->body, dump);

    // psql reads what the server wrote.
    EXPECT_EQ(pg.query(db,
                       "SELECT status || '|' || signature || '|' || attempt || '|' || "
                       "(lease_until IS NULL) FROM crashes WHERE id = '" +
                           pg_id + "'"),
              "processed|" + signature + "|1|true");
    EXPECT_TRUE(claimed_by_pid(claim_of(pg, db, pg_id), pg_server.pid()));
    EXPECT_EQ(pg.query(db,
                       "SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM "
                       "annotations WHERE crash_id = '" +
                           pg_id + "'"),
              "note=it's \"quoted\",prod=pg-test,ver=1.2.3");
    EXPECT_EQ(pg.query(db, "SELECT status FROM crashes WHERE id = '" + pg_bad + "'"), "failed");

    // Reprocessing claims it again.
    auto reprocess = c.Post("/api/crashes/" + pg_id + "/reprocess", with_token(), "", "text/plain");
    ASSERT_TRUE(reprocess);
    EXPECT_EQ(reprocess->status, 202);
    ASSERT_TRUE(wait_for([&] { return claim_of(pg, db, pg_id).rfind("processed|2|", 0) == 0; }))
        << claim_of(pg, db, pg_id);
    EXPECT_EQ(comparable(get_json(pg_server, "/api/crashes/" + pg_id), pg_data.path()),
              comparable(from_pg, pg_data.path()));
}

TEST(ServicePostgres, TwoServersShareTheQueueAndEachCrashIsClaimedOnce) {
    PostgresCluster pg;
    const std::string db = pg.new_database();
    TempDir data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    ServerProcess first(data.path(), pg_options(pg.url(db), {"--workers", "2"}));
    ServerProcess second(data.path(), pg_options(pg.url(db), {"--workers", "2"}));

    // Eight uploads at once, half to each: four workers race for the queue.
    constexpr int kUploads = 8;
    std::vector<std::string> ids(kUploads);
    std::vector<std::thread> uploaders;
    for (int i = 0; i < kUploads; ++i)
        uploaders.emplace_back([&, i] {
            ids[static_cast<size_t>(i)] =
                upload(i % 2 == 0 ? first : second, dump, {{"n", std::to_string(i)}});
        });
    for (std::thread& t : uploaders) t.join();
    for (int i = 0; i < kUploads; ++i) {
        const std::string& id = ids[static_cast<size_t>(i)];
        ASSERT_FALSE(id.empty()) << i;
        // Each server answers for the other's uploads.
        const json crash = wait_until_done(i % 2 == 0 ? second : first, id);
        EXPECT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
        EXPECT_EQ(crash.at("annotations").value("n", ""), std::to_string(i));
        EXPECT_EQ(get_json(first, "/api/crashes/" + id), crash);
    }
    // Every crash claimed exactly once (attempt counts the claims), by one of the two servers,
    // and both did some of the work.
    EXPECT_EQ(pg.query(db,
                       "SELECT count(*) FROM crashes WHERE status = 'processed' AND attempt = "
                       "1 AND lease_until IS NULL"),
              std::to_string(kUploads));
    std::set<std::string> claimers;
    for (const std::string& id : ids) {
        const std::string claim = claim_of(pg, db, id);
        EXPECT_TRUE(claimed_by_pid(claim, first.pid()) || claimed_by_pid(claim, second.pid()))
            << claim;
        claimers.insert(claim.substr(claim.rfind('|') + 1));
    }
    EXPECT_EQ(claimers.size(), 2u);
    EXPECT_EQ(entries_of(data.path() + "/dumps").size(), static_cast<size_t>(kUploads));
    const json top = get_json(second, "/api/signatures");
    ASSERT_EQ(top.at("signatures").size(), 1u);
    EXPECT_EQ(top.at("signatures")[0].value("count", 0), kUploads);
}

#if DUMPSCOPE_TEST_HOOKS
// The first server claims the crash and stops there (the test build's stall point, as a server
// whose analysis hangs): while it lives its lease is renewed and the second server leaves the
// crash alone; SIGKILLed, its lease expires and the second server processes the crash.
TEST(ServicePostgres, AKilledServersCrashIsProcessedByAnotherWhenItsLeaseExpires) {
    PostgresCluster pg;
    const std::string db = pg.new_database();
    TempDir data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    ServerProcess stalled(data.path(), pg_options(pg.url(db), {"--lease-seconds", "2"}),
                          {"env", "DUMPSCOPE_TEST_STALL=service-claimed"});
    const std::string id = upload(stalled, dump);
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(wait_for([&] { return claimed_by_pid(claim_of(pg, db, id), stalled.pid()); }))
        << claim_of(pg, db, id);
    const auto lease_of = [&] {
        return std::stoll(pg.query(db, "SELECT lease_until FROM crashes WHERE id = '" + id + "'"));
    };
    const long long first_lease = lease_of();

    ServerProcess other(data.path(), pg_options(pg.url(db), {"--lease-seconds", "2"}));
    // Renewed past the first lease's end and more, with the other server running all along.
    ASSERT_TRUE(wait_for([&] { return lease_of() > first_lease + 3000; }, 60));
    EXPECT_EQ(claim_of(pg, db, id).substr(0, 13), "processing|1|");
    EXPECT_TRUE(claimed_by_pid(claim_of(pg, db, id), stalled.pid()));
    EXPECT_EQ(get_json(other, "/api/crashes/" + id).value("status", ""), "processing");

    stalled.kill_and_reap();
    const json crash = wait_until_done(other, id);
    EXPECT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
    const std::string claim = claim_of(pg, db, id);
    EXPECT_EQ(claim.substr(0, 12), "processed|2|") << claim;
    EXPECT_TRUE(claimed_by_pid(claim, other.pid())) << claim;
}
#endif

// The database stops under two running servers: they stay up, answer 503 meanwhile, and process
// again once it is back; then a plain `pg_ctl restart` under them.
TEST(ServicePostgres, ServersSurviveADatabaseRestart) {
    PostgresCluster pg;
    const std::string db = pg.new_database();
    TempDir data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    ServerProcess first(data.path(), pg_options(pg.url(db), {"--lease-seconds", "5"}));
    ServerProcess second(data.path(), pg_options(pg.url(db), {"--lease-seconds", "5"}));
    const std::string before = upload(first, dump);
    ASSERT_FALSE(before.empty());
    ASSERT_EQ(wait_until_done(second, before).value("status", ""), "processed");

    pg.stop();
    int status = 0;
    (void)get_json(first, "/api/crashes/" + before, &status);
    EXPECT_EQ(status, 503);
    const Upload refused = submit(second, form_body({}, dump));
    EXPECT_EQ(refused.status, 503) << refused.body;
    (void)get_json(second, "/api/signatures", &status);
    EXPECT_EQ(status, 503);
    EXPECT_TRUE(first.alive());
    EXPECT_TRUE(second.alive());
    EXPECT_EQ(entries_of(data.path() + "/dumps").size(), 1u);  // the refused upload left nothing

    pg.start_again();
    ASSERT_TRUE(wait_for([&] {  // both servers back on the database
        int s = 0, t = 0;
        (void)get_json(first, "/api/crashes/" + before, &s);
        (void)get_json(second, "/api/crashes/" + before, &t);
        return s == 200 && t == 200;
    }));
    for (const ServerProcess* server : {&first, &second}) {
        const std::string id = upload(*server, dump);
        ASSERT_FALSE(id.empty());
        EXPECT_EQ(wait_until_done(*server, id).value("status", ""), "processed");
    }

    pg.restart();
    std::string after;
    ASSERT_TRUE(wait_for([&] {
        after = upload(second, dump);
        return !after.empty();
    }));
    EXPECT_EQ(wait_until_done(first, after).value("status", ""), "processed");
    EXPECT_TRUE(first.alive());
    EXPECT_TRUE(second.alive());
    EXPECT_EQ(pg.query(db, "SELECT count(*) FROM crashes WHERE status = 'processed'"), "4");
}

// Servers starting together migrate once (one schema_version row, the version SQLite mode has);
// restarted, they keep it and the data; a database newer than the program is refused.
TEST(ServicePostgres, MigrationsAreVersionedAndRunOnce) {
    PostgresCluster pg;
    const std::string db = pg.new_database();
    TempDir data, sqlite_data, dumps;
    std::string sqlite_version;
    {
        ServerProcess sqlite_server(sqlite_data.path());
        const CommandResult version = run(
            {"sqlite3", sqlite_data.path() + "/crashes.db", "SELECT version FROM schema_version"});
        ASSERT_EQ(version.exit_code, 0) << version.err;
        sqlite_version = version.out.substr(0, version.out.find('\n'));
    }
    const std::string dump = file_text(healthy_dump(dumps));
    std::string id;
    for (int round = 0; round < 2; ++round) {
        std::unique_ptr<ServerProcess> servers[2];
        std::thread starters[2];
        std::atomic<int> failures{0};
        for (int i = 0; i < 2; ++i)
            starters[i] = std::thread([&, i] {
                try {
                    servers[i] =
                        std::make_unique<ServerProcess>(data.path(), pg_options(pg.url(db)));
                } catch (const std::exception&) {
                    ++failures;
                }
            });
        for (std::thread& t : starters) t.join();
        ASSERT_EQ(failures.load(), 0);
        EXPECT_EQ(pg.query(db, "SELECT string_agg(version::text, ',') FROM schema_version"),
                  sqlite_version);
        EXPECT_EQ(pg.query(db,
                           "SELECT data_type FROM information_schema.columns WHERE "
                           "table_name = 'crashes' AND column_name = 'received_at'"),
                  "bigint");
        EXPECT_EQ(pg.query(db,
                           "SELECT count(*) FROM information_schema.columns WHERE "
                           "table_name = 'crashes' AND column_name IN ('claimed_by', "
                           "'lease_until', 'crash_class')"),
                  "3");
        if (round == 0) {
            id = upload(*servers[0], dump);
            ASSERT_FALSE(id.empty());
        }
        EXPECT_EQ(wait_until_done(*servers[1], id).value("status", ""), "processed");
    }
    EXPECT_EQ(pg.query(db, "SELECT attempt FROM crashes WHERE id = '" + id + "'"), "1");

    pg.query(db, "UPDATE schema_version SET version = version + 1");
    const CommandResult refused =
        run({dumpscope_binary(), "server", "--listen", "127.0.0.1:0", "--data", data.path(),
             "--token", kToken, "--database", pg.url(db)},
            60);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("newer than this dumpscope"), std::string::npos) << refused.err;
}

// A URL that reaches no server: a clear error naming it, without its password.
TEST(ServicePostgres, AnUnreachableDatabaseIsAClearErrorWithoutThePassword) {
    TempDir data;
    const int port = free_tcp_port();
    const CommandResult refused =
        run({dumpscope_binary(), "server", "--listen", "127.0.0.1:0", "--data", data.path(),
             "--token", kToken, "--database",
             "postgresql://someone:s3cret-pw@127.0.0.1:" + std::to_string(port) + "/crashes"},
            60);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("postgresql://someone:***@127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(refused.err.find("s3cret-pw"), std::string::npos) << refused.err;
    const CommandResult not_a_url = run({dumpscope_binary(), "server", "--data", data.path(),
                                         "--token", kToken, "--database", "mysql://x"},
                                        60);
    EXPECT_EQ(not_a_url.exit_code, 2);
}

}  // namespace
