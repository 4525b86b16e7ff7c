// Retention's enforcement (docs/service.md, "Retention"): reads the crashes' records, lets
// choose_deletions() (retention_policy.h) pick, and deletes each chosen crash: its row and
// annotations in one transaction, then its dump from the dump store (a missing one is not an
// error). One line
// on stderr per deleted crash. Enforcements are serialized (uploads and workers both run them).
#pragma once

#include <cstddef>
#include <mutex>

#include "common/result.h"
#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/retention_policy.h"

namespace dumpscope::service {

class Retention {
public:
    Retention(CrashStore& store, DumpStore& dumps, RetentionPolicy policy)
        : store_(store), dumps_(dumps), policy_(policy) {}

    // Deletes what the policy chooses now (at most policy.max_deletions); returns how many.
    Result<size_t> enforce();

private:
    CrashStore& store_;
    DumpStore& dumps_;
    RetentionPolicy policy_;
    std::mutex mutex_;
};

}  // namespace dumpscope::service
