#include "service/symbol_index.h"

namespace dumpscope::service {

namespace {

Result<std::vector<std::string>> ids_of(Statement& select) {
    std::vector<std::string> ids;
    for (;;) {
        auto row = select.step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        ids.push_back(select.column_string(0));
    }
    return ids;
}

}  // namespace

Result<std::unique_ptr<SymbolIndex>> SymbolIndex::open(const std::string& path) {
    auto db = Database::open(path);
    if (!db.ok()) return db.error();
    return std::unique_ptr<SymbolIndex>(new SymbolIndex(std::move(*db)));
}

Status SymbolIndex::record(const std::string& crash_id, const std::vector<CrashModule>& modules) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    auto remove = db_.prepare("DELETE FROM crash_modules WHERE crash_id = ?1");
    if (!remove.ok()) return remove.error();
    DS_TRY(remove->bind(1, crash_id).run());
    auto insert = db_.prepare(
        "INSERT INTO crash_modules (crash_id, build_id, module, symbols) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (crash_id, build_id) DO NOTHING");
    if (!insert.ok()) return insert.error();
    for (const CrashModule& m : modules) {
        if (m.build_id.empty()) continue;
        DS_TRY(
            insert->bind(1, crash_id).bind(2, m.build_id).bind(3, m.name).bind(4, m.symbols).run());
    }
    return transaction->commit();
}

Result<std::vector<std::string>> SymbolIndex::crashes_lacking(const std::string& build_id) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT c.id FROM crash_modules m JOIN crashes c ON c.id = m.crash_id "
        "WHERE m.build_id = ?1 AND m.symbols <> 'dwarf' AND c.status = 'processed' "
        "ORDER BY c.received_at");
    if (!select.ok()) return select.error();
    select->bind(1, build_id);
    return ids_of(*select);
}

Result<std::vector<std::string>> SymbolIndex::crashes_with(const std::string& build_id,
                                                           int64_t limit) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT c.id FROM crash_modules m JOIN crashes c ON c.id = m.crash_id "
        "WHERE m.build_id = ?1 ORDER BY c.received_at DESC LIMIT ?2");
    if (!select.ok()) return select.error();
    select->bind(1, build_id).bind(2, limit);
    return ids_of(*select);
}

}  // namespace dumpscope::service
