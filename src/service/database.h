// The service's database, whichever it is: SQLite (a file; the single-process server) or
// PostgreSQL through libpq (a postgresql:// URL; several servers sharing it). Value types over a
// backend (database_backend.h): a connection and statements with bound parameters, errors as
// values naming the database and the statement. No SQL is built from request data: every value
// goes through a bound parameter.
//
// The SQL is written once for both: parameters `?1 ?2 ...` (PostgreSQL's backend rewrites them
// to `$1 $2 ...`, sql_parameters.h), integers BIGINT, no SQLite-only syntax (docs/service.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope::service {

class DatabaseBackend;
class StatementBackend;

enum class DatabaseKind { sqlite, postgresql };

class Statement {
public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are numbered from 1, as `?1` in the SQL.
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, int64_t value);
    // With PostgreSQL a NULL is typed as the last value bound at that index in this statement,
    // else TEXT: for a NULL in an integer column, write `CAST(?N AS BIGINT)`.
    Statement& bind_null(int index);
    Statement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    // NULL for nullopt.
    Statement& bind_optional(int index, const std::optional<std::string>& text);

    // One step: true while a row is available, false when done; an error otherwise. Stepping
    // again after the end runs the statement again.
    Result<bool> step();
    // Runs to completion (for statements without rows), then resets the statement so it can run
    // again with new bindings.
    Status run();

    // 0 for NULL.
    int64_t column_int(int column) const;
    std::optional<std::string> column_text(int column) const;
    std::string column_string(int column) const { return column_text(column).value_or(""); }

private:
    friend class Database;
    explicit Statement(std::unique_ptr<StatementBackend> backend);
    std::unique_ptr<StatementBackend> backend_;
};

class Database {
public:
    // `postgresql://...` or `postgres://...` (libpq's URL forms): PostgreSQL. Anything else is
    // the path of a SQLite file, opened (created) with a WAL journal, foreign keys on and a busy
    // timeout.
    static Result<Database> open(const std::string& path);
    static bool is_postgresql_url(std::string_view location);
    Database(Database&& other) noexcept;
    Database& operator=(Database&&) = delete;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    // Checked when the statement first runs with PostgreSQL, here with SQLite.
    Result<Statement> prepare(const std::string& sql);
    // Runs one or more statements without parameters.
    Status exec(const std::string& sql);
    // The file, or the URL without its password.
    const std::string& path() const;
    // Rows changed by the last INSERT, UPDATE or DELETE.
    int64_t changes() const;
    DatabaseKind kind() const;
    // False after the connection to the server was lost and not yet made again (each statement
    // tries to reconnect first). Always true with SQLite. Safe from any thread.
    bool connected() const;

private:
    friend class Transaction;
    explicit Database(std::unique_ptr<DatabaseBackend> backend);
    std::unique_ptr<DatabaseBackend> backend_;
};

// BEGIN (IMMEDIATE with SQLite) ... COMMIT; rolled back on destruction unless committed.
class Transaction {
public:
    static Result<Transaction> begin(Database& db);
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    Status commit();

private:
    explicit Transaction(Database* db) : db_(db) {}
    Database* db_;
};

}  // namespace dumpscope::service
