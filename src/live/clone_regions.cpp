#include "live/clone_regions.h"

namespace dumpscope {

namespace {

bool readable(const Mapping& m) { return m.read && !m.io; }

}  // namespace

std::vector<UnforkedRegion> unforked_regions(const std::vector<Mapping>& mappings,
                                             uint64_t pause_budget) {
    std::vector<UnforkedRegion> out;
    uint64_t total = 0;
    for (const Mapping& m : mappings) {
        if (!(m.dont_fork || m.wipe_on_fork) || !readable(m)) continue;
        out.push_back({m.start, m.end, m.dont_fork ? "MADV_DONTFORK" : "MADV_WIPEONFORK", false});
        total += m.size();
    }
    for (UnforkedRegion& r : out) r.copy_in_pause = total <= pause_budget;
    return out;
}

std::vector<const Mapping*> mappings_missing_from_clone(const std::vector<Mapping>& target,
                                                        const std::vector<Mapping>& clone) {
    std::vector<const Mapping*> missing;
    auto theirs = clone.begin();
    for (const Mapping& m : target) {
        while (theirs != clone.end() && theirs->start < m.start) ++theirs;
        const bool present =
            theirs != clone.end() && theirs->start == m.start && theirs->end == m.end;
        if (present || m.dont_fork || m.wipe_on_fork || !readable(m)) continue;
        missing.push_back(&m);
    }
    return missing;
}

}  // namespace dumpscope
