// The index and job queue of the single-process server: one SQLite database (DATA/crashes.db)
// with a versioned schema (schema_version; migrations run at start-up, schema.cpp). A crash row
// is its status (queued -> processing -> processed | failed), what the upload said (annotations)
// and what the analysis found (signature, program, the analyze JSON and HTML). Every call is
// serialized by one mutex over one connection. Times are milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "service/retention_policy.h"
#include "service/sqlite_db.h"

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

class CrashStore {
public:
    // Opens DATA/crashes.db, runs the migrations, and puts crashes left in `processing` (a server
    // killed mid-analysis) back to `queued`.
    static Result<std::unique_ptr<CrashStore>> open(const std::string& path);

    Result<int64_t> schema_version();
    Status insert(const NewCrash& crash);
    // The oldest queued crash, now `processing`; nullopt when the queue is empty.
    Result<std::optional<ClaimedJob>> claim_next();
    // Store a result unless the crash was reprocessed since it was claimed (then false).
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

private:
    explicit CrashStore(Database db) : db_(std::move(db)) {}
    Status requeue_interrupted();

    std::mutex mutex_;
    Database db_;
    int64_t requeued_at_start_ = 0;
};

}  // namespace dumpscope::service
