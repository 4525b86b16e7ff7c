// [start, end) address ranges put in order and merged where they overlap or touch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace dumpscope {

using AddressRange = std::pair<uint64_t, uint64_t>;  // [first, second)

inline std::vector<AddressRange> sorted_merged(std::vector<AddressRange> ranges) {
    std::sort(ranges.begin(), ranges.end());
    std::vector<AddressRange> merged;
    for (const AddressRange& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    return merged;
}

}  // namespace dumpscope
