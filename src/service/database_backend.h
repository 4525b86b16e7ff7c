// What a database backend implements behind Database and Statement (database.h): SQLite
// (sqlite_backend.cpp) and PostgreSQL (postgres_backend.cpp). Internal to the service's database
// layer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "service/database.h"

namespace dumpscope::service {

class StatementBackend {
public:
    virtual ~StatementBackend() = default;
    virtual void bind_text(int index, std::string_view text) = 0;
    virtual void bind_int(int index, int64_t value) = 0;
    virtual void bind_null(int index) = 0;
    virtual Result<bool> step() = 0;
    virtual Status run() = 0;
    virtual int64_t column_int(int column) const = 0;
    virtual std::optional<std::string> column_text(int column) const = 0;
};

class DatabaseBackend {
public:
    virtual ~DatabaseBackend() = default;
    virtual Result<std::unique_ptr<StatementBackend>> prepare(const std::string& sql) = 0;
    virtual Status exec(const std::string& sql) = 0;
    virtual Status begin() = 0;
    virtual Status commit() = 0;
    virtual void rollback() = 0;
    virtual const std::string& name() const = 0;
    virtual int64_t changes() const = 0;
    virtual DatabaseKind kind() const = 0;
    virtual bool connected() const = 0;
};

Result<std::unique_ptr<DatabaseBackend>> open_sqlite(const std::string& path);
Result<std::unique_ptr<DatabaseBackend>> open_postgres(const std::string& url);

}  // namespace dumpscope::service
