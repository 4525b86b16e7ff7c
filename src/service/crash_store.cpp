#include "service/crash_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "common/unique_fd.h"
#include "live/test_stall.h"
#include "service/crash_id.h"
#include "service/schema.h"
#include "service/signature_stats.h"

namespace dumpscope::service {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

// host:pid:8 random hex digits: unique among the servers sharing a database, and says where.
Result<std::string> new_owner_id() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown-host");
    auto random = new_crash_id();
    if (!random.ok()) return random.error();
    return fmt::format("{}:{}:{}", host, ::getpid(), random->substr(0, 8));
}

}  // namespace

Result<std::unique_ptr<CrashStore>> CrashStore::open(const std::string& location,
                                                     StoreOptions options) {
    if (!Database::is_postgresql_url(location)) {
        // The annotations and reports are as private as the dumps: the database (and the journal
        // files SQLite makes with its mode) is 0600.
        UniqueFd created(::open(location.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!created.valid()) return errno_error("cannot open the database " + location);
    }
    if (options.owner.empty()) {
        auto owner = new_owner_id();
        if (!owner.ok()) return owner.error();
        options.owner = std::move(*owner);
    }
    auto db = Database::open(location);
    if (!db.ok()) return db.error();
    DS_TRY(migrate(*db));
    std::unique_ptr<CrashStore> store(new CrashStore(std::move(*db), std::move(options)));
    DS_TRY(store->requeue_interrupted());
    return store;
}

Status CrashStore::requeue_interrupted() {
    if (db_.kind() == DatabaseKind::postgresql) {
        // Other servers may be working on theirs: only the expired ones.
        auto requeued = requeue_expired();
        if (!requeued.ok()) return requeued.error();
        requeued_at_start_ = *requeued;
        return {};
    }
    // SQLite: this server is the only one, every crash `processing` was a dead server's.
    std::lock_guard lock(mutex_);
    DS_TRY(db_.exec(
        "UPDATE crashes SET status = 'queued', claimed_by = NULL, lease_until = NULL WHERE status "
        "= 'processing'"));
    requeued_at_start_ = db_.changes();
    return {};
}

Result<int64_t> CrashStore::renew_leases() {
    std::lock_guard lock(mutex_);
    const int64_t now = now_ms();
    auto update = db_.prepare(
        "UPDATE crashes SET lease_until = ?2 WHERE status = 'processing' AND claimed_by = ?1 AND "
        "lease_until >= ?3");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, options_.owner).bind(2, now + options_.lease_ms).bind(3, now).run());
    return db_.changes();
}

Result<int64_t> CrashStore::requeue_expired() {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare(
        "UPDATE crashes SET status = 'queued', claimed_by = NULL, lease_until = NULL WHERE status "
        "= 'processing' AND (lease_until IS NULL OR lease_until < ?1)");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, now_ms()).run());
    return db_.changes();
}

Status CrashStore::ping() {
    std::lock_guard lock(mutex_);
    return db_.exec("SELECT 1");
}

void CrashStore::stop_waiting() {
    {
        std::lock_guard lock(wait_mutex_);
        stop_waiting_ = true;
    }
    wait_.notify_all();
}

template <typename Attempt>
Result<bool> CrashStore::until_stored(Attempt attempt) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.lease_ms);
    for (;;) {
        Result<bool> stored = [&] {
            std::lock_guard lock(mutex_);
            return attempt();
        }();
        if (stored.ok() || db_.connected() || std::chrono::steady_clock::now() >= deadline)
            return stored;
        std::unique_lock lock(wait_mutex_);
        if (wait_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_waiting_; }))
            return stored;
    }
}

Result<int64_t> CrashStore::schema_version() {
    std::lock_guard lock(mutex_);
    return current_schema_version(db_);
}

Status CrashStore::insert(const NewCrash& crash) {
    return inserts_.submit(
        &crash, [this](std::vector<InsertGroup::Entry*>& batch) { insert_batch(batch); });
}

void CrashStore::insert_batch(std::vector<InsertGroup::Entry*>& batch) {
    std::lock_guard lock(mutex_);
    const Status together = insert_in_one_transaction(batch);
    if (together.ok() || batch.size() == 1) {
        for (InsertGroup::Entry* entry : batch) entry->result = together;
        return;
    }
    for (InsertGroup::Entry* entry : batch)
        entry->result = insert_in_one_transaction(std::span(&entry, 1));
}

Status CrashStore::insert_in_one_transaction(std::span<InsertGroup::Entry* const> entries) {
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    auto row = db_.prepare(
        "INSERT INTO crashes (id, status, received_at, dump_size) VALUES (?1, 'queued', ?2, ?3)");
    if (!row.ok()) return row.error();
    // A key sent twice keeps its last value.
    auto annotation = db_.prepare(
        "INSERT INTO annotations (crash_id, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (crash_id, "
        "key) DO UPDATE SET value = excluded.value");
    if (!annotation.ok()) return annotation.error();
    for (const InsertGroup::Entry* entry : entries) {
        const NewCrash& crash = *entry->item;
        DS_TRY(row->bind(1, crash.id)
                   .bind(2, crash.received_ms)
                   .bind(3, static_cast<int64_t>(crash.dump_size))
                   .run());
        for (const auto& [key, value] : crash.annotations)
            DS_TRY(annotation->bind(1, crash.id).bind(2, key).bind(3, value).run());
    }
    return transaction->commit();
}

Result<std::optional<ClaimedJob>> CrashStore::claim_next() {
    std::optional<ClaimedJob> job;
    {
        std::lock_guard lock(mutex_);
        // PostgreSQL: the row is locked by the subquery, and a row another server holds locked
        // is skipped, not waited for. SQLite: one writer at a time anyway.
        const char* lock_clause =
            db_.kind() == DatabaseKind::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
        auto claim = db_.prepare(fmt::format(
            "UPDATE crashes SET status = 'processing', attempt = attempt + 1, claimed_by = ?1, "
            "lease_until = ?2 WHERE id = (SELECT id FROM crashes WHERE status = 'queued' ORDER "
            "BY received_at, id LIMIT 1{}) AND status = 'queued' RETURNING id, attempt",
            lock_clause));
        if (!claim.ok()) return claim.error();
        claim->bind(1, options_.owner).bind(2, now_ms() + options_.lease_ms);
        auto row = claim->step();
        if (!row.ok()) return row.error();
        if (!*row) return std::optional<ClaimedJob>();
        job = ClaimedJob{claim->column_string(0), claim->column_int(1)};
        DS_TRY(claim->run());
    }
    // Test builds: a server "killed mid-analysis" stops here, its crash claimed (test_stall.h).
    test_stall_point("service-claimed");
    return job;
}

Result<bool> CrashStore::finish_processed(const ClaimedJob& job, const ProcessedCrash& result) {
    return until_stored([&]() -> Result<bool> { return store_processed(job, result); });
}

Result<bool> CrashStore::store_processed(const ClaimedJob& job, const ProcessedCrash& result) {
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    auto update = db_.prepare(
        "UPDATE crashes SET status = 'processed', processed_at = ?3, format = ?4, signature = ?5, "
        "program = ?6, analysis_json = ?7, analysis_html = ?8, crash_class = ?9, error = NULL, "
        "lease_until = NULL WHERE id = ?1 AND attempt = ?2 AND status = 'processing'");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, job.id)
               .bind(2, job.attempt)
               .bind(3, now_ms())
               .bind(4, result.format)
               .bind(5, result.signature)
               .bind(6, result.program)
               .bind(7, result.json)
               .bind(8, result.html)
               .bind_optional(9, result.crash_class.empty()
                                     ? std::nullopt
                                     : std::optional<std::string>(result.crash_class))
               .run());
    if (db_.changes() != 1) return false;
    auto contribution = processed_contribution(db_, job.id);
    if (!contribution.ok()) return contribution.error();
    if (*contribution) DS_TRY(add_contribution(db_, **contribution));
    DS_TRY(transaction->commit());
    return true;
}

Result<bool> CrashStore::finish_failed(const ClaimedJob& job, const std::string& error) {
    return until_stored([&]() -> Result<bool> { return store_failed(job, error); });
}

Result<bool> CrashStore::store_failed(const ClaimedJob& job, const std::string& error) {
    auto update = db_.prepare(
        "UPDATE crashes SET status = 'failed', processed_at = ?3, error = ?4, lease_until = NULL "
        "WHERE id = ?1 AND attempt = ?2 AND status = 'processing'");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, job.id).bind(2, job.attempt).bind(3, now_ms()).bind(4, error).run());
    return db_.changes() == 1;
}

Result<std::optional<std::string>> CrashStore::end_without_answer(const ClaimedJob& job,
                                                                  int64_t kill_limit,
                                                                  const std::string& error) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    int64_t kills = 0;
    {
        auto select = db_.prepare(
            "SELECT analysis_kills FROM crashes WHERE id = ?1 AND attempt = ?2 AND status = "
            "'processing'");
        if (!select.ok()) return select.error();
        select->bind(1, job.id).bind(2, job.attempt);
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) return std::optional<std::string>();
        kills = select->column_int(0) + (kill_limit > 0 ? 1 : 0);
    }
    const bool give_up = kill_limit > 0 && kills >= kill_limit;
    auto update = db_.prepare(
        give_up ? "UPDATE crashes SET status = 'failed', processed_at = ?1, error = ?2, "
                  "analysis_kills = 0, claimed_by = NULL, lease_until = NULL WHERE id = ?3"
                : "UPDATE crashes SET status = 'queued', analysis_kills = ?1, claimed_by = NULL, "
                  "lease_until = NULL WHERE id = ?2");
    if (!update.ok()) return update.error();
    if (give_up)
        update->bind(1, now_ms()).bind(2, error).bind(3, job.id);
    else
        update->bind(1, kills).bind(2, job.id);
    DS_TRY(update->run());
    DS_TRY(transaction->commit());
    return std::optional<std::string>(give_up ? "failed" : "queued");
}

Result<std::optional<CrashRecord>> CrashStore::get(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT id, status, received_at, processed_at, dump_size, format, signature, program, "
        "error, analysis_json, crash_class FROM crashes WHERE id = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<CrashRecord>();
    CrashRecord record;
    record.id = select->column_string(0);
    record.status = select->column_string(1);
    record.received_ms = select->column_int(2);
    if (select->column_text(3)) record.processed_ms = select->column_int(3);
    record.dump_size = static_cast<uint64_t>(select->column_int(4));
    record.format = select->column_text(5);
    record.signature = select->column_text(6);
    record.program = select->column_text(7);
    record.error = select->column_text(8);
    record.analysis_json = select->column_text(9);
    record.crash_class = select->column_text(10);
    auto annotations =
        db_.prepare("SELECT key, value FROM annotations WHERE crash_id = ?1 ORDER BY key");
    if (!annotations.ok()) return annotations.error();
    annotations->bind(1, id);
    for (;;) {
        auto next = annotations->step();
        if (!next.ok()) return next.error();
        if (!*next) break;
        record.annotations.emplace_back(annotations->column_string(0),
                                        annotations->column_string(1));
    }
    return std::optional<CrashRecord>(std::move(record));
}

Result<std::optional<std::string>> CrashStore::analysis_html(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare("SELECT analysis_html FROM crashes WHERE id = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<std::string>();
    return select->column_text(0);
}

Result<std::vector<CrashSummary>> CrashStore::list(const CrashQuery& query) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT id, status, received_at, signature, program, crash_class FROM crashes WHERE (?1 IS "
        "NULL OR signature = ?1) AND (?2 IS NULL OR program = ?2) AND (?4 IS NULL OR crash_class "
        "= ?4) ORDER BY received_at DESC, id DESC LIMIT ?3");
    if (!select.ok()) return select.error();
    select->bind_optional(1, query.signature)
        .bind_optional(2, query.program)
        .bind(3, query.limit)
        .bind_optional(4, query.crash_class);
    std::vector<CrashSummary> crashes;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        crashes.push_back({select->column_string(0), select->column_string(1),
                           select->column_int(2), select->column_text(3), select->column_text(4),
                           select->column_text(5)});
    }
    return crashes;
}

Result<std::vector<SignatureSummary>> CrashStore::signatures(int64_t limit) {
    std::lock_guard lock(mutex_);
    // The summaries (signature_stats.h): the top `limit` signatures, then the programs and
    // versions of those only.
    auto select = db_.prepare(
        "SELECT signature, count, first_ms, last_ms FROM signature_stats ORDER BY count DESC, "
        "last_ms DESC, signature LIMIT ?1");
    if (!select.ok()) return select.error();
    select->bind(1, limit);
    std::vector<SignatureSummary> out;
    std::map<std::string, size_t> index;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        SignatureSummary s;
        s.signature = select->column_string(0);
        s.count = select->column_int(1);
        s.first_ms = select->column_int(2);
        s.last_ms = select->column_int(3);
        index.emplace(s.signature, out.size());
        out.push_back(std::move(s));
    }
    if (out.empty()) return out;
    std::string in;
    for (size_t i = 0; i < out.size(); ++i) in += fmt::format("{}?{}", i == 0 ? "" : ", ", i + 1);
    const auto members = [&](const char* sql,
                             std::vector<std::string> SignatureSummary::*list) -> Status {
        auto rows = db_.prepare(fmt::format(fmt::runtime(sql), in));
        if (!rows.ok()) return rows.error();
        for (size_t i = 0; i < out.size(); ++i)
            rows->bind(static_cast<int>(i + 1), out[i].signature);
        for (;;) {
            auto row = rows->step();
            if (!row.ok()) return row.error();
            if (!*row) break;
            auto found = index.find(rows->column_string(0));
            if (found != index.end()) (out[found->second].*list).push_back(rows->column_string(1));
        }
        return {};
    };
    DS_TRY(members(
        "SELECT signature, program FROM signature_programs WHERE signature IN ({}) ORDER BY "
        "signature, program",
        &SignatureSummary::programs));
    DS_TRY(members(
        "SELECT signature, version FROM signature_versions WHERE signature IN ({}) ORDER BY "
        "signature, version",
        &SignatureSummary::versions));
    return out;
}

Result<bool> CrashStore::requeue(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    auto was_processed = processed_contribution(db_, id);
    if (!was_processed.ok()) return was_processed.error();
    auto update = db_.prepare(
        "UPDATE crashes SET status = 'queued', processed_at = NULL, error = NULL, signature = "
        "NULL, program = NULL, crash_class = NULL, analysis_json = NULL, analysis_html = NULL, "
        "claimed_by = NULL, lease_until = NULL WHERE id = ?1");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, id).run());
    if (db_.changes() != 1) return false;
    if (*was_processed) DS_TRY(subtract_contribution(db_, **was_processed));
    DS_TRY(transaction->commit());
    return true;
}

Result<std::vector<RetentionRecord>> CrashStore::retention_records() {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT id, status, received_at, dump_size, signature FROM crashes ORDER BY received_at, "
        "id");
    if (!select.ok()) return select.error();
    std::vector<RetentionRecord> records;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        records.push_back({select->column_string(0), select->column_string(1),
                           select->column_int(2), static_cast<uint64_t>(select->column_int(3)),
                           select->column_text(4)});
    }
    return records;
}

Result<bool> CrashStore::remove(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    auto was_processed = processed_contribution(db_, id);
    if (!was_processed.ok()) return was_processed.error();
    auto row = db_.prepare("DELETE FROM crashes WHERE id = ?1 AND status != 'processing'");
    if (!row.ok()) return row.error();
    DS_TRY(row->bind(1, id).run());
    if (db_.changes() != 1) return false;
    auto annotations = db_.prepare("DELETE FROM annotations WHERE crash_id = ?1");
    if (!annotations.ok()) return annotations.error();
    DS_TRY(annotations->bind(1, id).run());
    if (*was_processed) DS_TRY(subtract_contribution(db_, **was_processed));
    DS_TRY(transaction->commit());
    return true;
}

}  // namespace dumpscope::service
