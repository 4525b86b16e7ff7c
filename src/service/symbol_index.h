// The build-id index (table crash_modules, schema.cpp migration 4): for each processed crash, the
// build-ids of its modules and what the analysis had for each ("dwarf": functions and lines;
// "symtab": functions only; "none"). A debug file that arrives for a build-id re-queues the
// processed crashes whose module with that build-id had no DWARF (crashes_lacking). Rows go with
// their crash (ON DELETE CASCADE). Its own connection to the database, serialized by its own mutex;
// portable SQL only.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/crash_store.h"
#include "service/sqlite_db.h"

namespace dumpscope::service {

class SymbolIndex {
public:
    // Opens the database the CrashStore opened and migrated.
    static Result<std::unique_ptr<SymbolIndex>> open(const std::string& path);

    // Replaces the crash's modules by `modules` (those with a build-id).
    Status record(const std::string& crash_id, const std::vector<CrashModule>& modules);
    // Processed crashes with a module of this build-id that had no DWARF, oldest first.
    Result<std::vector<std::string>> crashes_lacking(const std::string& build_id);
    // Crashes with a module of this build-id, newest first, at most `limit`.
    Result<std::vector<std::string>> crashes_with(const std::string& build_id, int64_t limit);

private:
    explicit SymbolIndex(Database db) : db_(std::move(db)) {}

    std::mutex mutex_;
    Database db_;
};

}  // namespace dumpscope::service
