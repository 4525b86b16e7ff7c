#include "service/database.h"

#include <utility>

#include "service/database_backend.h"

namespace dumpscope::service {

Statement::Statement(std::unique_ptr<StatementBackend> backend) : backend_(std::move(backend)) {}
Statement::Statement(Statement&& other) noexcept = default;
Statement::~Statement() = default;

Statement& Statement::bind(int index, std::string_view text) {
    backend_->bind_text(index, text);
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    backend_->bind_int(index, value);
    return *this;
}

Statement& Statement::bind_null(int index) {
    backend_->bind_null(index);
    return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Result<bool> Statement::step() { return backend_->step(); }
Status Statement::run() { return backend_->run(); }
int64_t Statement::column_int(int column) const { return backend_->column_int(column); }
std::optional<std::string> Statement::column_text(int column) const {
    return backend_->column_text(column);
}

bool Database::is_postgresql_url(std::string_view location) {
    return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<Database> Database::open(const std::string& path) {
    auto backend = is_postgresql_url(path) ? open_postgres(path) : open_sqlite(path);
    if (!backend.ok()) return backend.error();
    return Database(std::move(*backend));
}

Database::Database(std::unique_ptr<DatabaseBackend> backend) : backend_(std::move(backend)) {}
Database::Database(Database&& other) noexcept = default;
Database::~Database() = default;

Result<Statement> Database::prepare(const std::string& sql) {
    auto statement = backend_->prepare(sql);
    if (!statement.ok()) return statement.error();
    return Statement(std::move(*statement));
}

Status Database::exec(const std::string& sql) { return backend_->exec(sql); }
const std::string& Database::path() const { return backend_->name(); }
int64_t Database::changes() const { return backend_->changes(); }
DatabaseKind Database::kind() const { return backend_->kind(); }
bool Database::connected() const { return backend_->connected(); }

Result<Transaction> Transaction::begin(Database& db) {
    DS_TRY(db.backend_->begin());
    return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
    if (db_ != nullptr) db_->backend_->rollback();
}

Status Transaction::commit() {
    Database* db = std::exchange(db_, nullptr);
    return db->backend_->commit();
}

}  // namespace dumpscope::service
