// A thin RAII layer over SQLite's C API (sqlite3.h): a connection and prepared statements with
// bound parameters, errors as values naming the database file and the statement. No SQL is built
// from request data: every value goes through a bound parameter.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace dumpscope::service {

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql)
        : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are numbered from 1, as in SQLite.
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, int64_t value);
    Statement& bind_null(int index);
    Statement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    // NULL for nullopt.
    Statement& bind_optional(int index, const std::optional<std::string>& text);

    // One step: true while a row is available, false when done; an error otherwise.
    Result<bool> step();
    // Runs to completion (for statements without rows), then resets the statement so it can run
    // again with new bindings.
    Status run();

    int64_t column_int(int column) const;
    std::optional<std::string> column_text(int column) const;
    std::string column_string(int column) const { return column_text(column).value_or(""); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    std::string sql_;
};

class Database {
public:
    // Opens (creating) the database file; WAL journal, foreign keys on, a busy timeout.
    static Result<Database> open(const std::string& path);
    Database(Database&& other) noexcept;
    Database& operator=(Database&&) = delete;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    Result<Statement> prepare(const std::string& sql);
    // Runs one or more statements without parameters.
    Status exec(const std::string& sql);
    const std::string& path() const { return path_; }
    int64_t changes() const { return sqlite3_changes64(db_); }

private:
    Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    sqlite3* db_;
    std::string path_;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed.
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
