// A size limit on a dump directory: when its dumps (*.dmp, *.core) take more than the quota,
// the oldest go first. Files just written are never removed (a single dump larger than the
// quota stays, and is reported).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

struct QuotaOutcome {
    std::vector<std::string> removed;  // names, oldest first
    uint64_t bytes_after = 0;          // disk usage of the dumps left
};

// Disk usage of the dumps in dir.
Result<uint64_t> dump_usage(const std::string& dir);

Result<QuotaOutcome> enforce_dump_quota(const std::string& dir, uint64_t quota_bytes,
                                        const std::vector<std::string>& keep);

}  // namespace dumpscope
