// The index and job queue: a SQLite file (DATA/crashes.db, one server) or a PostgreSQL database
// (--database postgresql://..., any number of servers sharing it), with a versioned schema
// (schema_version; migrations run at start-up, schema.cpp). A crash row is its status (queued ->
// processing -> processed | failed), what the upload said (annotations) and what the analysis
// found (signature, program, the analyze JSON and HTML). Every call of one store is serialized by
// one mutex over one connection. Times are milliseconds since the Unix epoch.
//
// Leases: a claimed crash carries the claiming server's id (claimed_by) and a lease (lease_until);
// the server renews the leases of its crashes while it works on them (renew_leases), and any
// server puts a crash whose lease expired (its server died or lost the database for longer than
// the lease) back to `queued` (requeue_expired). A result is stored only for the current claim
// (the `attempt` counter), so a late result from a server that lost its claim is dropped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "service/database.h"
#include "service/group_commit.h"
#include "service/retention_policy.h"

namespace dumpscope::service {

using Annotations = std::vector<std::pair<std::string, std::string>>;

struct NewCrash {
    std::string id;
    int64_t received_ms = 0;
    uint64_t dump_size = 0;
    Annotations annotations;
};

// A job a worker took: `attempt` tells a stale result (the crash was reprocessed meanwhile) from
// the current one.
struct ClaimedJob {
    std::string id;
    int64_t attempt = 0;
};

// A module of a processed crash with a build-id, for the symbol index (symbol_index.h).
struct CrashModule {
    std::string build_id;  // lowercase hex
    std::string name;
    std::string symbols;  // "dwarf", "symtab" or "none": what the analysis had for it
};

struct ProcessedCrash {
    std::string format;       // "minidump", "elf-core"
    std::string crash_class;  // of the first crash finding; "" without one
    std::string signature;
    std::string program;
    std::string json;
    std::string html;
    std::vector<CrashModule> modules = {};  // stored by SymbolIndex, not by CrashStore
};

struct CrashRecord {
    std::string id;
    std::string status;
    int64_t received_ms = 0;
    std::optional<int64_t> processed_ms;
    uint64_t dump_size = 0;
    std::optional<std::string> format, crash_class, signature, program, error, analysis_json;
    Annotations annotations;
};

struct CrashSummary {
    std::string id;
    std::string status;
    int64_t received_ms = 0;
    std::optional<std::string> signature, program, crash_class;
};

struct CrashQuery {
    std::optional<std::string> signature, program, crash_class;
    int64_t limit = 100;
};

struct SignatureSummary {
    std::string signature;
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
    std::vector<std::string> programs;
    std::vector<std::string> versions;  // the `ver` and `version` annotations of its crashes
};

int64_t now_ms();

struct StoreOptions {
    // This server's id in claimed_by; "" makes one (host name, process id, random digits).
    std::string owner;
    int64_t lease_ms = 60'000;
};

class CrashStore {
public:
    // Opens the database (database.h: a SQLite file, created 0600, or a postgresql:// URL), runs
    // the migrations, and puts crashes a dead server left in `processing` back to `queued`: with
    // SQLite (one server) every one of them, with PostgreSQL those whose lease expired.
    static Result<std::unique_ptr<CrashStore>> open(const std::string& location,
                                                    StoreOptions options = {});

    Result<int64_t> schema_version();
    Status insert(const NewCrash& crash);
    // The oldest queued crash, now `processing` under this server's lease; nullopt when the queue
    // is empty. With PostgreSQL, FOR UPDATE SKIP LOCKED: two servers never claim the same crash.
    Result<std::optional<ClaimedJob>> claim_next();
    // Store a result unless the crash was reprocessed or lost its lease since it was claimed (then
    // false). If the connection to the database is lost, tries again until it is back, for at most
    // the lease (after that the crash is another server's to process) or until stop_waiting().
    Result<bool> finish_processed(const ClaimedJob& job, const ProcessedCrash& result);
    Result<bool> finish_failed(const ClaimedJob& job, const std::string& error);
    // The analysis of `job` ended without an answer. `kill_limit` 0 (the server is stopping):
    // back to `queued`, not counted. Otherwise one more killed attempt: `failed` with `error` at
    // the limit (the count starts again from 0), else `queued`. The new status; nullopt if the
    // job is stale.
    Result<std::optional<std::string>> end_without_answer(const ClaimedJob& job, int64_t kill_limit,
                                                          const std::string& error);
    Result<std::optional<CrashRecord>> get(const std::string& id);
    Result<std::optional<std::string>> analysis_html(const std::string& id);
    // Newest first.
    Result<std::vector<CrashSummary>> list(const CrashQuery& query);
    // Processed crashes by signature, most frequent first.
    Result<std::vector<SignatureSummary>> signatures(int64_t limit);
    // Back to `queued`, results cleared; false if there is no such crash.
    Result<bool> requeue(const std::string& id);
    // Every crash as retention sees it, oldest first (retention_policy.h).
    Result<std::vector<RetentionRecord>> retention_records();
    // Deletes the crash's row and annotations in one transaction, unless it is being processed;
    // false if it was not deleted (no such crash, or processing). The dump file is the caller's.
    Result<bool> remove(const std::string& id);
    int64_t requeued_at_start() const { return requeued_at_start_; }

    // Extends the lease of every crash this server is processing whose lease has not expired yet
    // (an expired one is left to requeue_expired); the number renewed.
    Result<int64_t> renew_leases();
    // Crashes `processing` past their lease (or without one) back to `queued`; the number.
    Result<int64_t> requeue_expired();
    // False while the connection to the database is lost (PostgreSQL); no database access.
    bool available() const { return db_.connected(); }
    // One trivial statement, which makes the connection again if it was lost.
    Status ping();
    // Ends the waits of finish_processed/finish_failed for a lost database (the server stops).
    void stop_waiting();
    const std::string& owner() const { return options_.owner; }
    // The file, or the URL without its password.
    const std::string& database_name() const { return db_.path(); }
    int64_t lease_ms() const { return options_.lease_ms; }
    DatabaseKind kind() const { return db_.kind(); }

private:
    CrashStore(Database db, StoreOptions options)
        : db_(std::move(db)), options_(std::move(options)) {}
    Status requeue_interrupted();
    template <typename Attempt>
    Result<bool> until_stored(Attempt attempt);
    // The crashes of uploads that arrived together, in one transaction (group_commit.h); if that
    // fails, each in its own, so one bad row fails only its own upload.
    using InsertGroup = GroupCommit<const NewCrash*>;
    void insert_batch(std::vector<InsertGroup::Entry*>& batch);
    Status insert_in_one_transaction(std::span<InsertGroup::Entry* const> entries);
    // One try each, under the mutex.
    Result<bool> store_processed(const ClaimedJob& job, const ProcessedCrash& result);
    Result<bool> store_failed(const ClaimedJob& job, const std::string& error);

    InsertGroup inserts_;
    std::mutex mutex_;
    Database db_;
    StoreOptions options_;
    int64_t requeued_at_start_ = 0;
    std::mutex wait_mutex_;
    std::condition_variable wait_;
    bool stop_waiting_ = false;
};

}  // namespace dumpscope::service
