#include "service/schema.h"

#include <fmt/format.h>

#include <array>

namespace dumpscope::service {

namespace {

// Migration N (1-based) is kMigrations[N - 1], appended, never edited in place. One list for SQLite
// and PostgreSQL, so portable SQL only: integers BIGINT (PostgreSQL's INTEGER is 32 bits; SQLite
// reads any *INT* type as its 64-bit INTEGER, so migration 1 said INTEGER before PostgreSQL came
// and means the same), TEXT, no SQLite-only syntax, one ALTER TABLE action per statement.
constexpr auto kMigrations = std::to_array<const char*>({
    // 1: crashes, their annotations, and the indexes the API filters and sorts by.
    R"sql(
CREATE TABLE crashes (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'processed', 'failed')),
    received_at BIGINT NOT NULL,
    processed_at BIGINT,
    attempt BIGINT NOT NULL DEFAULT 0,
    dump_size BIGINT NOT NULL,
    format TEXT,
    signature TEXT,
    program TEXT,
    error TEXT,
    analysis_json TEXT,
    analysis_html TEXT
);
CREATE INDEX crashes_by_status ON crashes (status, received_at);
CREATE INDEX crashes_by_received ON crashes (received_at);
CREATE INDEX crashes_by_signature ON crashes (signature, received_at);
CREATE INDEX crashes_by_program ON crashes (program, received_at);
CREATE TABLE annotations (
    crash_id TEXT NOT NULL REFERENCES crashes (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (crash_id, key)
);
CREATE INDEX annotations_by_value ON annotations (key, value);
)sql",
    // 2: the crash class of the first crash finding ("null-dereference", ...), to filter by.
    R"sql(
ALTER TABLE crashes ADD COLUMN crash_class TEXT;
CREATE INDEX crashes_by_class ON crashes (crash_class, received_at);
)sql",
    // 3: leases: the server whose worker claimed a crash, and until when (ms since the epoch) the
    // claim holds unless renewed; a crash `processing` past its lease goes back to `queued`.
    R"sql(
ALTER TABLE crashes ADD COLUMN claimed_by TEXT;
ALTER TABLE crashes ADD COLUMN lease_until BIGINT;
CREATE INDEX crashes_by_lease ON crashes (status, lease_until);
)sql",
    // 4 (symbols): the build-ids of each processed crash's modules and what the analysis had for
    // them ('dwarf', 'symtab', 'none'), so that a debug file arriving re-queues the crashes that
    // lacked it (symbol_index.h).
    R"sql(
CREATE TABLE crash_modules (
    crash_id TEXT NOT NULL REFERENCES crashes (id) ON DELETE CASCADE,
    build_id TEXT NOT NULL,
    module TEXT NOT NULL,
    symbols TEXT NOT NULL,
    PRIMARY KEY (crash_id, build_id)
);
CREATE INDEX crash_modules_by_build_id ON crash_modules (build_id, symbols);
)sql",
    // 5: analyses of the crash in a row that were killed or timed out (worker_pool.cpp), so that
    // a dump which always crashes the analysis fails after a few attempts.
    R"sql(
ALTER TABLE crashes ADD COLUMN analysis_kills BIGINT NOT NULL DEFAULT 0;
)sql",
    // 6: remote collection (agent_store.h): the agents that registered, the collections asked of
    // them, and the process-list requests waiting for an agent's answer.
    R"sql(
CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    kernel TEXT NOT NULL,
    version TEXT NOT NULL,
    allow_list TEXT NOT NULL,
    session TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    target TEXT NOT NULL,
    dump_type TEXT NOT NULL,
    compress BIGINT NOT NULL,
    trigger_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    crash_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX collections_by_agent ON collections (agent, created_at);
CREATE INDEX collections_by_status ON collections (agent, status, created_at);
CREATE TABLE agent_requests (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed BIGINT NOT NULL DEFAULT 0,
    answer TEXT
);
CREATE INDEX agent_requests_by_agent ON agent_requests (agent, claimed, created_at);
)sql",
    // 7: signature summaries (signature_stats.h), kept by CrashStore in the transaction of each
    // crash's change, so the list pages read a few rows rather than every crash; filled here from
    // the crashes already processed. The index on crashes recomputes a signature's first/last time
    // when one of its crashes goes.
    R"sql(
CREATE TABLE signature_stats (
    signature TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL
);
CREATE INDEX signature_stats_by_count ON signature_stats (count, last_ms);
CREATE INDEX signature_stats_by_rank ON signature_stats (count, signature);
CREATE TABLE signature_programs (
    signature TEXT NOT NULL,
    program TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (signature, program)
);
CREATE TABLE signature_versions (
    signature TEXT NOT NULL,
    version TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (signature, version)
);
CREATE TABLE signature_classes (
    signature TEXT NOT NULL,
    crash_class TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (signature, crash_class)
);
CREATE TABLE signature_days (
    signature TEXT NOT NULL,
    day BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (signature, day)
);
CREATE INDEX crashes_by_status_signature ON crashes (status, signature, received_at);
INSERT INTO signature_stats (signature, count, first_ms, last_ms)
    SELECT signature, COUNT(*), MIN(received_at), MAX(received_at) FROM crashes
    WHERE status = 'processed' AND signature IS NOT NULL GROUP BY signature;
INSERT INTO signature_programs (signature, program, count)
    SELECT signature, program, COUNT(*) FROM crashes
    WHERE status = 'processed' AND signature IS NOT NULL AND program IS NOT NULL
    GROUP BY signature, program;
INSERT INTO signature_versions (signature, version, count)
    SELECT c.signature, a.value, COUNT(*) FROM crashes c JOIN annotations a ON a.crash_id = c.id
    WHERE c.status = 'processed' AND c.signature IS NOT NULL AND a.key IN ('ver', 'version')
    GROUP BY c.signature, a.value;
INSERT INTO signature_classes (signature, crash_class, count)
    SELECT signature, crash_class, COUNT(*) FROM crashes
    WHERE status = 'processed' AND signature IS NOT NULL AND crash_class IS NOT NULL
    GROUP BY signature, crash_class;
INSERT INTO signature_days (signature, day, count)
    SELECT signature, received_at / 86400000, COUNT(*) FROM crashes
    WHERE status = 'processed' AND signature IS NOT NULL GROUP BY signature, received_at / 86400000;
)sql",
});

// Any number the servers sharing a PostgreSQL database agree on: the advisory lock that lets one
// of them migrate while the others wait ("dumpscope" in ASCII).
constexpr int64_t kMigrationLock = 0x64756d7073636f70;

}  // namespace

int64_t latest_schema_version() { return static_cast<int64_t>(kMigrations.size()); }

Result<int64_t> current_schema_version(Database& db) {
    auto select = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!select.ok()) return select.error();
    auto row = select->step();
    if (!row.ok()) return row.error();
    return *row ? select->column_int(0) : 0;
}

Status migrate(Database& db, int64_t target) {
    if (target < 0 || target > latest_schema_version()) target = latest_schema_version();
    // Two servers starting together: SQLite's BEGIN IMMEDIATE takes the database's write lock;
    // PostgreSQL takes an advisory lock held to the commit, before reading the version, so the
    // second server waits and then finds nothing left to do.
    auto transaction = Transaction::begin(db);
    if (!transaction.ok()) return transaction.error();
    if (db.kind() == DatabaseKind::postgresql)
        DS_TRY(db.exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLock)));
    DS_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"));
    auto version = current_schema_version(db);
    if (!version.ok()) return version.error();
    if (*version > latest_schema_version())
        return Error{fmt::format(
            "{}: schema version {} is newer than this dumpscope's ({}): use a newer dumpscope",
            db.path(), *version, latest_schema_version())};
    for (int64_t next = *version + 1; next <= target; ++next) {
        if (Status applied = db.exec(kMigrations[static_cast<size_t>(next - 1)]); !applied.ok())
            return Error{fmt::format("migration {}: {}", next, applied.error().message)};
    }
    if (*version < target) {
        DS_TRY(db.exec("DELETE FROM schema_version"));
        auto insert = db.prepare("INSERT INTO schema_version (version) VALUES (?1)");
        if (!insert.ok()) return insert.error();
        DS_TRY(insert->bind(1, target).run());
    }
    return transaction->commit();
}

}  // namespace dumpscope::service
