#include "service/retention.h"

#include <fmt/format.h>

#include <cstdio>

namespace dumpscope::service {

Result<size_t> Retention::enforce() {
    if (!policy_.active()) return size_t{0};
    std::lock_guard lock(mutex_);
    auto records = store_.retention_records();
    if (!records.ok()) return records.error();
    size_t deleted = 0;
    for (const RetentionChoice& choice : choose_deletions(*records, policy_)) {
        auto removed = store_.remove(choice.id);
        if (!removed.ok()) return removed.error();
        if (!*removed) continue;  // claimed by a worker meanwhile
        ++deleted;
        if (Status file = dumps_.remove(choice.id); !file.ok())
            fmt::print(stderr, "dumpscope server: retention: {}\n", file.error().message);
        fmt::print(stderr, "dumpscope server: retention: deleted crash {} ({})\n", choice.id,
                   choice.reason);
    }
    return deleted;
}

}  // namespace dumpscope::service
