// The PostgreSQL backend of database.h over libpq: one connection, each statement sent with its
// parameters in text form (PQexecParams: no server-side prepared statement, so nothing is lost
// when the connection is made again), the whole result read at once and stepped row by row.
//
// A lost connection (the server restarted, the network cut) is made again before the next
// statement, never in the middle of one: a statement that failed because the connection broke may
// have run, so it is not sent again; the caller gets the error. Before each statement outside a
// transaction, an idle connection with input waiting (what a server that ended the session sends)
// or marked broken is reset first, so the statement after a restart runs on a fresh connection. A
// transaction whose connection broke fails to its end (its statements, then the commit).
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <cstdlib>
#include <utility>
#include <vector>

#include "service/database_backend.h"
#include "service/sql_parameters.h"

namespace dumpscope::service {

namespace {

// pg_type's fixed OIDs (catalog/pg_type_d.h is not in libpq-dev).
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// libpq's messages on one line: "...failed: Connection refused\n\tIs the server running...".
std::string trimmed(const char* message) {
    std::string text;
    for (const char* c = message != nullptr ? message : ""; *c != '\0'; ++c) {
        if (*c == '\n' || *c == '\t') {
            if (!text.empty() && text.back() != ' ') text.push_back(' ');
        } else {
            text.push_back(*c);
        }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct Parameters {
    std::vector<std::optional<std::string>> values;
    std::vector<Oid> types;
};

class PostgresDatabase final : public DatabaseBackend {
public:
    PostgresDatabase(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {
        PQsetNoticeProcessor(
            conn_, [](void*, const char*) {}, nullptr);
    }
    PostgresDatabase(const PostgresDatabase&) = delete;
    PostgresDatabase& operator=(const PostgresDatabase&) = delete;
    ~PostgresDatabase() override { PQfinish(conn_); }

    Result<std::unique_ptr<StatementBackend>> prepare(const std::string& sql) override;

    Status exec(const std::string& sql) override {
        auto result = execute(sql, nullptr, sql);
        if (!result.ok()) return result.error();
        return {};
    }

    Status begin() override {
        DS_TRY(exec("BEGIN"));
        in_transaction_ = true;
        transaction_lost_ = false;
        return {};
    }

    Status commit() override {
        Status committed = exec("COMMIT");
        if (!committed.ok()) rollback();
        in_transaction_ = false;
        transaction_lost_ = false;
        return committed;
    }

    void rollback() override {
        if (in_transaction_ && !transaction_lost_ && PQstatus(conn_) == CONNECTION_OK &&
            PQtransactionStatus(conn_) != PQTRANS_IDLE) {
            PgResult result(PQexec(conn_, "ROLLBACK"));
        }
        in_transaction_ = false;
        transaction_lost_ = false;
    }

    const std::string& name() const override { return name_; }
    int64_t changes() const override { return changes_; }
    DatabaseKind kind() const override { return DatabaseKind::postgresql; }
    bool connected() const override { return connected_.load(); }

    // Runs `sql` (PostgreSQL's form), with `parameters` if not null; `shown` names it in errors.
    Result<PgResult> execute(const std::string& sql, const Parameters* parameters,
                             const std::string& shown);

private:
    bool input_waiting() const {
        pollfd p{PQsocket(conn_), POLLIN, 0};
        return p.fd >= 0 && ::poll(&p, 1, 0) > 0;
    }
    Status ensure_connection();

    PGconn* conn_;
    std::string name_;
    std::atomic<bool> connected_{true};
    bool in_transaction_ = false;
    bool transaction_lost_ = false;
    int64_t changes_ = 0;
};

Status PostgresDatabase::ensure_connection() {
    if (in_transaction_) {
        if (transaction_lost_ || PQstatus(conn_) != CONNECTION_OK)
            return Error{fmt::format(
                "{}: the connection to the database was lost inside a transaction", name_)};
        return {};
    }
    if (PQstatus(conn_) == CONNECTION_OK && !input_waiting()) return {};
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
        connected_ = false;
        return Error{fmt::format("{}: cannot connect to the database: {}", name_,
                                 trimmed(PQerrorMessage(conn_)))};
    }
    connected_ = true;
    return {};
}

Result<PgResult> PostgresDatabase::execute(const std::string& sql, const Parameters* parameters,
                                           const std::string& shown) {
    DS_TRY(ensure_connection());
    PgResult result;
    if (parameters == nullptr) {
        result.reset(PQexec(conn_, sql.c_str()));
    } else {
        std::vector<const char*> values;
        values.reserve(parameters->values.size());
        std::vector<int> lengths;
        for (const auto& value : parameters->values) {
            values.push_back(value ? value->c_str() : nullptr);
            lengths.push_back(value ? static_cast<int>(value->size()) : 0);
        }
        result.reset(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                  parameters->types.data(), values.data(), lengths.data(), nullptr,
                                  0));
    }
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
        connected_ = true;
        const std::string_view tag = PQcmdStatus(result.get());
        if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE"))
            changes_ = std::strtoll(PQcmdTuples(result.get()), nullptr, 10);
        return result;
    }
    const bool lost = PQstatus(conn_) != CONNECTION_OK;
    if (lost) {
        connected_ = false;
        if (in_transaction_) transaction_lost_ = true;
    }
    const std::string message =
        trimmed(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_));
    return Error{fmt::format("{}: statement '{}' failed{}: {}", name_, shown,
                             lost ? " (the connection to the database was lost)" : "",
                             message.empty() ? trimmed(PQerrorMessage(conn_)) : message)};
}

class PostgresStatement final : public StatementBackend {
public:
    PostgresStatement(PostgresDatabase& db, std::string sql)
        : db_(db), sql_(std::move(sql)), postgres_sql_(postgres_parameters(sql_)) {}

    void bind_text(int index, std::string_view text) override {
        set(index, std::string(text), kTextOid);
    }
    void bind_int(int index, int64_t value) override {
        set(index, std::to_string(value), kInt8Oid);
    }
    // Typed as the last value bound at this index, else TEXT: left untyped, `?1 IS NULL OR
    // col = ?1` could not be planned ("could not determine data type of parameter $1").
    void bind_null(int index) override {
        const auto slot = static_cast<size_t>(index - 1);
        const Oid type = index >= 1 && slot < parameters_.types.size() && parameters_.types[slot]
                             ? parameters_.types[slot]
                             : kTextOid;
        set(index, std::nullopt, type);
    }

    Result<bool> step() override {
        if (!result_) {
            auto result = db_.execute(postgres_sql_, &parameters_, sql_);
            if (!result.ok()) return result.error();
            result_ = std::move(*result);
            row_ = -1;
        }
        if (++row_ < PQntuples(result_.get())) return true;
        result_.reset();
        return false;
    }

    Status run() override {
        if (result_) {  // already ran, partly stepped: done
            result_.reset();
            return {};
        }
        auto result = db_.execute(postgres_sql_, &parameters_, sql_);
        if (!result.ok()) return result.error();
        return {};
    }

    int64_t column_int(int column) const override {
        if (!has(column) || PQgetisnull(result_.get(), row_, column)) return 0;
        return std::strtoll(PQgetvalue(result_.get(), row_, column), nullptr, 10);
    }

    std::optional<std::string> column_text(int column) const override {
        if (!has(column) || PQgetisnull(result_.get(), row_, column)) return std::nullopt;
        return std::string(PQgetvalue(result_.get(), row_, column),
                           static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
    }

private:
    bool has(int column) const {
        return result_ && row_ >= 0 && row_ < PQntuples(result_.get()) && column >= 0 &&
               column < PQnfields(result_.get());
    }
    void set(int index, std::optional<std::string> value, Oid type) {
        if (index < 1) return;
        const auto slot = static_cast<size_t>(index - 1);
        if (parameters_.values.size() <= slot) {
            parameters_.values.resize(slot + 1);
            parameters_.types.resize(slot + 1, 0);
        }
        parameters_.values[slot] = std::move(value);
        parameters_.types[slot] = type;
    }

    PostgresDatabase& db_;
    std::string sql_;
    std::string postgres_sql_;
    Parameters parameters_;
    PgResult result_;
    int row_ = -1;
};

Result<std::unique_ptr<StatementBackend>> PostgresDatabase::prepare(const std::string& sql) {
    return std::unique_ptr<StatementBackend>(new PostgresStatement(*this, sql));
}

}  // namespace

Result<std::unique_ptr<DatabaseBackend>> open_postgres(const std::string& url) {
    const std::string name = redact_database_url(url);
    // The URL's own settings come last and win over these defaults.
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "dumpscope server", url.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) return Error{fmt::format("{}: cannot connect: out of memory", name)};
    if (PQstatus(conn) != CONNECTION_OK) {
        Error error{fmt::format("{}: cannot connect to the database: {}", name,
                                trimmed(PQerrorMessage(conn)))};
        PQfinish(conn);
        return error;
    }
    return std::unique_ptr<DatabaseBackend>(new PostgresDatabase(conn, name));
}

}  // namespace dumpscope::service
