// The SQLite backend of database.h over SQLite's C API: one connection (serialized mode),
// prepared statements stepped row by row.
#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

#include "service/database_backend.h"
#include "service/sqlite_wal_checkpointer.h"

namespace dumpscope::service {

namespace {

constexpr int kCheckpointPeriodMs = 100;
constexpr int kBackstopCheckpointPages = 20000;  // 80 MB of log at SQLite's 4 KiB pages

Error sqlite_error(sqlite3* db, const std::string& what) {
    return Error{fmt::format("{}: {}", what, sqlite3_errmsg(db))};
}

class SqliteStatement final : public StatementBackend {
public:
    SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql)
        : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }

    void bind_text(int index, std::string_view text) override {
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    void bind_int(int index, int64_t value) override { sqlite3_bind_int64(stmt_, index, value); }
    void bind_null(int index) override { sqlite3_bind_null(stmt_, index); }

    Result<bool> step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return sqlite_error(db_, fmt::format("SQLite statement '{}'", sql_));
    }

    Status run() override {
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

    int64_t column_int(int column) const override { return sqlite3_column_int64(stmt_, column); }

    std::optional<std::string> column_text(int column) const override {
        if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        const int size = sqlite3_column_bytes(stmt_, column);
        return std::string(text == nullptr ? "" : text, static_cast<size_t>(size));
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    std::string sql_;
};

class SqliteDatabase final : public DatabaseBackend {
public:
    SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    // After the log is in WAL mode: the checkpoints move to a thread of their own.
    Status start_checkpointer() {
        auto checkpointer = WalCheckpointer::of(path_, kCheckpointPeriodMs);
        if (!checkpointer.ok()) return checkpointer.error();
        checkpointer_ = std::move(*checkpointer);
        return {};
    }
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;
    ~SqliteDatabase() override {
        checkpointer_.reset();
        sqlite3_close_v2(db_);
    }

    Result<std::unique_ptr<StatementBackend>> prepare(const std::string& sql) override {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
            SQLITE_OK)
            return sqlite_error(db_, fmt::format("{}: cannot prepare '{}'", path_, sql));
        return std::unique_ptr<StatementBackend>(new SqliteStatement(db_, stmt, sql));
    }

    Status exec(const std::string& sql) override {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            Error error{fmt::format("{}: '{}' failed: {}", path_, sql,
                                    message != nullptr ? message : sqlite3_errmsg(db_))};
            sqlite3_free(message);
            return error;
        }
        return {};
    }

    // IMMEDIATE: the write lock from the start, so two writers never deadlock on an upgrade.
    Status begin() override { return exec("BEGIN IMMEDIATE"); }
    Status commit() override {
        Status committed = exec("COMMIT");
        if (!committed.ok()) rollback();
        return committed;
    }
    void rollback() override {
        if (sqlite3_get_autocommit(db_) == 0) (void)exec("ROLLBACK");
    }
    const std::string& name() const override { return path_; }
    int64_t changes() const override { return sqlite3_changes64(db_); }
    DatabaseKind kind() const override { return DatabaseKind::sqlite; }
    bool connected() const override { return true; }

private:
    sqlite3* db_;
    std::string path_;
    std::shared_ptr<WalCheckpointer> checkpointer_;
};

}  // namespace

Result<std::unique_ptr<DatabaseBackend>> open_sqlite(const std::string& path) {
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
    auto database = std::make_unique<SqliteDatabase>(db, path);
    // The writers' own automatic checkpoint only as a backstop, should the checkpointer's
    // PASSIVE checkpoints fall behind (a reader holding an old snapshot for long).
    DS_TRY(database->exec(
        fmt::format("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA wal_autocheckpoint={};",
                    kBackstopCheckpointPages)));
    DS_TRY(database->start_checkpointer());
    return std::unique_ptr<DatabaseBackend>(std::move(database));
}

}  // namespace dumpscope::service
