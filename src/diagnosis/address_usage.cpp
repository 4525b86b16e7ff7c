#include "diagnosis/address_usage.h"

#include <algorithm>
#include <map>

#include "analysis/region_classifier.h"

namespace dumpscope::diagnosis {

uint64_t AddressUsage::committed_of(const std::string& usage) const {
    for (const UsageTotal& u : by_usage) {
        if (u.usage == usage) return u.committed;
    }
    return 0;
}

AddressUsage address_usage(const Snapshot& snapshot) {
    std::map<std::string, UsageTotal> totals;
    AddressUsage out;
    for (const analysis::Region& r : analysis::classify_regions(snapshot, false)) {
        UsageTotal& t = totals[analysis::usage_name(r.usage)];
        t.usage = analysis::usage_name(r.usage);
        ++t.regions;
        t.in_dump += r.bytes_in_dump;
        if (r.state == minidump::MemoryState::Reserve) {
            t.reserved += r.size();
            out.reserved += r.size();
        } else {
            t.committed += r.size();
            out.committed += r.size();
        }
    }
    for (auto& [name, total] : totals) out.by_usage.push_back(std::move(total));
    std::stable_sort(
        out.by_usage.begin(), out.by_usage.end(),
        [](const UsageTotal& a, const UsageTotal& b) { return a.committed > b.committed; });
    return out;
}

}  // namespace dumpscope::diagnosis
