// Which stored crashes retention deletes (docs/service.md, "Retention"): a pure choice over the
// crashes' records, so it is tested without a server. Two rules, applied in this order:
//   - the per-signature cap: a signature with more than `max_per_signature` processed crashes
//     loses its oldest ones beyond the cap, except the first `keep_first` of the signature;
//   - the quota: while the dumps' total size is over `quota_bytes`, the oldest crash goes, unless
//     it is among the first `keep_first` or the last `keep_last` of its signature. Queued and
//     failed crashes (no signature yet, or none ever) count and can go too.
// A crash being processed is never chosen (it still counts towards the quota). At most
// `max_deletions` crashes are chosen per call, so one enforcement's work is bounded; the next
// call carries on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dumpscope::service {

struct RetentionPolicy {
    uint64_t quota_bytes = 0;        // 0: no quota
    uint64_t max_per_signature = 0;  // 0: no cap
    uint64_t keep_first = 2;
    uint64_t keep_last = 2;
    size_t max_deletions = 64;
    bool active() const { return quota_bytes > 0 || max_per_signature > 0; }
};

struct RetentionRecord {
    std::string id;
    std::string status;  // queued, processing, processed, failed
    int64_t received_ms = 0;
    uint64_t dump_size = 0;
    std::optional<std::string> signature;  // of a processed crash
};

struct RetentionChoice {
    std::string id;
    const char* reason;  // "signature cap" or "quota"
};

// `crashes` oldest first (by receipt, ties in the order given); the choice is oldest first.
std::vector<RetentionChoice> choose_deletions(const std::vector<RetentionRecord>& crashes,
                                              const RetentionPolicy& policy);

}  // namespace dumpscope::service
