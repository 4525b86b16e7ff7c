#include "service/retention_policy.h"

#include <map>

namespace dumpscope::service {

std::vector<RetentionChoice> choose_deletions(const std::vector<RetentionRecord>& crashes,
                                              const RetentionPolicy& policy) {
    std::vector<RetentionChoice> chosen;
    if (!policy.active()) return chosen;
    const size_t n = crashes.size();
    // The processed crashes of each signature, oldest first (indexes into `crashes`).
    std::map<std::string, std::vector<size_t>> by_signature;
    for (size_t i = 0; i < n; ++i)
        if (crashes[i].status == "processed" && crashes[i].signature)
            by_signature[*crashes[i].signature].push_back(i);
    std::vector<bool> first_few(n, false), last_few(n, false);
    std::vector<const char*> reason(n, nullptr);  // set: chosen
    for (const auto& [signature, members] : by_signature) {
        for (size_t k = 0; k < members.size(); ++k) {
            if (k < policy.keep_first) first_few[members[k]] = true;
            if (members.size() - k <= policy.keep_last) last_few[members[k]] = true;
        }
    }
    auto choose = [&](size_t i, const char* why) { reason[i] = why; };

    if (policy.max_per_signature > 0) {
        for (const auto& [signature, members] : by_signature) {
            uint64_t excess = members.size() > policy.max_per_signature
                                  ? members.size() - policy.max_per_signature
                                  : 0;
            for (size_t k = 0; k < members.size() && excess > 0; ++k) {
                if (first_few[members[k]]) continue;
                choose(members[k], "signature cap");
                --excess;
            }
        }
    }
    if (policy.quota_bytes > 0) {
        uint64_t total = 0;
        for (size_t i = 0; i < n; ++i)
            if (reason[i] == nullptr) total += crashes[i].dump_size;
        for (size_t i = 0; i < n && total > policy.quota_bytes; ++i) {
            if (reason[i] != nullptr || first_few[i] || last_few[i] ||
                crashes[i].status == "processing")
                continue;
            choose(i, "quota");
            total -= crashes[i].dump_size;
        }
    }
    // Oldest first across both rules, then bounded.
    for (size_t i = 0; i < n && chosen.size() < policy.max_deletions; ++i)
        if (reason[i] != nullptr) chosen.push_back({crashes[i].id, reason[i]});
    return chosen;
}

}  // namespace dumpscope::service
