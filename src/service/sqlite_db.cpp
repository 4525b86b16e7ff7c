#include "service/sqlite_db.h"

#include <fmt/format.h>

#include <utility>

namespace dumpscope::service {

namespace {

Error sqlite_error(sqlite3* db, const std::string& what) {
    return Error{fmt::format("{}: {}", what, sqlite3_errmsg(db))};
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement::~Statement() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Result<bool> Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, fmt::format("SQLite statement '{}'", sql_));
}

Status Statement::run() {
    for (;;) {
        auto row = step();
        if (!row.ok()) {
            sqlite3_reset(stmt_);
            return row.error();
        }
        if (!*row) {
            sqlite3_reset(stmt_);
            return {};
        }
    }
}

int64_t Statement::column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<std::string> Statement::column_text(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return std::string(text == nullptr ? "" : text, static_cast<size_t>(size));
}

Result<Database> Database::open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
        nullptr);
    if (rc != SQLITE_OK) {
        Error error{fmt::format("cannot open the database {}: {}", path,
                                db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
        sqlite3_close(db);
        return error;
    }
    sqlite3_busy_timeout(db, 10000);
    Database database(db, path);
    DS_TRY(
        database.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                      "PRAGMA foreign_keys=ON;"));
    return database;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database::~Database() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<Statement> Database::prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK)
        return sqlite_error(db_, fmt::format("{}: cannot prepare '{}'", path_, sql));
    return Statement(db_, stmt, sql);
}

Status Database::exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        Error error{fmt::format("{}: '{}' failed: {}", path_, sql,
                                message != nullptr ? message : sqlite3_errmsg(db_))};
        sqlite3_free(message);
        return error;
    }
    return {};
}

Result<Transaction> Transaction::begin(Database& db) {
    DS_TRY(db.exec("BEGIN IMMEDIATE"));
    return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
    if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
    Database* db = std::exchange(db_, nullptr);
    return db->exec("COMMIT");
}

}  // namespace dumpscope::service
