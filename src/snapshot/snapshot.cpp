#include "snapshot/snapshot.h"

#include <algorithm>

namespace dumpscope {

const Mapping* Snapshot::mapping_at(uint64_t addr) const {
    auto it = std::upper_bound(mappings.begin(), mappings.end(), addr,
                               [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (it == mappings.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

const Module* Snapshot::module_at(uint64_t addr) const {
    auto it = std::upper_bound(modules.begin(), modules.end(), addr,
                               [](uint64_t a, const Module& m) { return a < m.base; });
    if (it == modules.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

}  // namespace dumpscope
