#include "plan/memory_ranges.h"

#include <algorithm>

namespace dumpscope {

std::vector<MemoryRange> normalize_ranges(std::vector<MemoryRange> ranges) {
    std::erase_if(ranges, [](const MemoryRange& r) { return r.size == 0; });
    std::sort(ranges.begin(), ranges.end(),
              [](const MemoryRange& a, const MemoryRange& b) { return a.start < b.start; });
    std::vector<MemoryRange> out;
    for (const MemoryRange& r : ranges) {
        if (!out.empty() && r.start <= out.back().end()) {
            const uint64_t end = std::max(out.back().end(), r.end());
            out.back().size = end - out.back().start;
        } else {
            out.push_back(r);
        }
    }
    return out;
}

bool mapping_is_dumpable(const Mapping& m) {
    if (!m.read || m.io) return false;
    return m.path != "[vvar]" && m.path != "[vvar_vclock]" && m.path != "[vsyscall]";
}

std::vector<MemoryRange> clip_to_readable(const Snapshot& snapshot, MemoryRange range) {
    std::vector<MemoryRange> out;
    const uint64_t end = range.end() < range.start ? UINT64_MAX : range.end();
    auto it = std::upper_bound(snapshot.mappings.begin(), snapshot.mappings.end(), range.start,
                               [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (it != snapshot.mappings.begin()) --it;
    for (; it != snapshot.mappings.end() && it->start < end; ++it) {
        if (!mapping_is_dumpable(*it)) continue;
        const uint64_t lo = std::max(range.start, it->start);
        const uint64_t hi = std::min(end, it->end);
        if (lo < hi) out.push_back({lo, hi - lo});
    }
    return out;
}

std::vector<MemoryRange> intersect_ranges(const std::vector<MemoryRange>& a,
                                          const std::vector<MemoryRange>& b) {
    std::vector<MemoryRange> out;
    size_t j = 0;
    for (const MemoryRange& r : a) {
        while (j < b.size() && b[j].end() <= r.start) ++j;
        for (size_t k = j; k < b.size() && b[k].start < r.end(); ++k) {
            const uint64_t lo = std::max(r.start, b[k].start);
            const uint64_t hi = std::min(r.end(), b[k].end());
            if (lo < hi) out.push_back({lo, hi - lo});
        }
    }
    return out;
}

}  // namespace dumpscope
