#include "service/signature_stats.h"

namespace dumpscope::service {

namespace {

// `table`'s row (signature, `column` = value) gains `delta` crashes; at 0 it is deleted.
Status change_count(Database& db, const std::string& table, const std::string& column,
                    const std::string& signature, const std::string& value, int64_t delta) {
    auto upsert = db.prepare("INSERT INTO " + table + " (signature, " + column +
                             ", count) VALUES (?1, ?2, ?3) ON CONFLICT (signature, " + column +
                             ") DO UPDATE SET count = " + table + ".count + excluded.count");
    if (!upsert.ok()) return upsert.error();
    DS_TRY(upsert->bind(1, signature).bind(2, value).bind(3, delta).run());
    if (delta >= 0) return {};
    auto gone = db.prepare("DELETE FROM " + table + " WHERE signature = ?1 AND " + column +
                           " = ?2 AND count <= 0");
    if (!gone.ok()) return gone.error();
    return gone->bind(1, signature).bind(2, value).run();
}

Status change_day(Database& db, const std::string& signature, int64_t day, int64_t delta) {
    auto upsert = db.prepare(
        "INSERT INTO signature_days (signature, day, count) VALUES (?1, ?2, ?3) ON CONFLICT "
        "(signature, day) DO UPDATE SET count = signature_days.count + excluded.count");
    if (!upsert.ok()) return upsert.error();
    DS_TRY(upsert->bind(1, signature).bind(2, day).bind(3, delta).run());
    if (delta >= 0) return {};
    auto gone =
        db.prepare("DELETE FROM signature_days WHERE signature = ?1 AND day = ?2 AND count <= 0");
    if (!gone.ok()) return gone.error();
    return gone->bind(1, signature).bind(2, day).run();
}

Status change_members(Database& db, const SignatureContribution& crash, int64_t delta) {
    if (crash.program)
        DS_TRY(change_count(db, "signature_programs", "program", crash.signature, *crash.program,
                            delta));
    if (crash.crash_class)
        DS_TRY(change_count(db, "signature_classes", "crash_class", crash.signature,
                            *crash.crash_class, delta));
    for (const std::string& version : crash.versions)
        DS_TRY(change_count(db, "signature_versions", "version", crash.signature, version, delta));
    return change_day(db, crash.signature, signature_day(crash.received_ms), delta);
}

}  // namespace

Result<std::optional<SignatureContribution>> processed_contribution(Database& db,
                                                                    const std::string& id) {
    auto select = db.prepare(
        "SELECT signature, program, received_at, crash_class FROM crashes WHERE id = ?1 AND "
        "status = "
        "'processed' AND signature IS NOT NULL");
    if (!select.ok()) return select.error();
    select->bind(1, id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<SignatureContribution>();
    SignatureContribution crash;
    crash.signature = select->column_string(0);
    crash.program = select->column_text(1);
    crash.received_ms = select->column_int(2);
    crash.crash_class = select->column_text(3);
    auto versions = db.prepare(
        "SELECT value FROM annotations WHERE crash_id = ?1 AND key IN ('ver', 'version') ORDER "
        "BY key");
    if (!versions.ok()) return versions.error();
    versions->bind(1, id);
    for (;;) {
        auto next = versions->step();
        if (!next.ok()) return next.error();
        if (!*next) break;
        crash.versions.push_back(versions->column_string(0));
    }
    return std::optional<SignatureContribution>(std::move(crash));
}

Status add_contribution(Database& db, const SignatureContribution& crash) {
    auto upsert = db.prepare(
        "INSERT INTO signature_stats (signature, count, first_ms, last_ms) VALUES (?1, 1, ?2, ?2) "
        "ON CONFLICT (signature) DO UPDATE SET count = signature_stats.count + 1, first_ms = CASE "
        "WHEN excluded.first_ms < signature_stats.first_ms THEN excluded.first_ms ELSE "
        "signature_stats.first_ms END, last_ms = CASE WHEN excluded.last_ms > "
        "signature_stats.last_ms THEN excluded.last_ms ELSE signature_stats.last_ms END");
    if (!upsert.ok()) return upsert.error();
    DS_TRY(upsert->bind(1, crash.signature).bind(2, crash.received_ms).run());
    return change_members(db, crash, 1);
}

Status subtract_contribution(Database& db, const SignatureContribution& crash) {
    auto update = db.prepare(
        "UPDATE signature_stats SET count = count - 1, first_ms = COALESCE((SELECT "
        "MIN(received_at) FROM crashes WHERE status = 'processed' AND signature = ?1), first_ms), "
        "last_ms = COALESCE((SELECT MAX(received_at) FROM crashes WHERE status = 'processed' AND "
        "signature = ?1), last_ms) WHERE signature = ?1");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, crash.signature).run());
    auto gone = db.prepare("DELETE FROM signature_stats WHERE signature = ?1 AND count <= 0");
    if (!gone.ok()) return gone.error();
    DS_TRY(gone->bind(1, crash.signature).run());
    return change_members(db, crash, -1);
}

}  // namespace dumpscope::service
