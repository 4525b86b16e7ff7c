// The database schema as numbered migrations: schema_version holds the number of those applied;
// at start-up the missing ones run in one transaction, in order. A migration is never edited
// once released: a change is a new one appended to the list.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "service/database.h"

namespace dumpscope::service {

// The version the code expects (the number of migrations).
int64_t latest_schema_version();
// Applies the missing migrations up to `target` (the latest by default); refuses a database newer
// than this program.
Status migrate(Database& db, int64_t target = -1);
Result<int64_t> current_schema_version(Database& db);

}  // namespace dumpscope::service
