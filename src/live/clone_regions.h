// What a clone lacks of its target's memory, decided from mapping lists alone (no I/O):
// the regions marked MADV_DONTFORK (not in a child) or MADV_WIPEONFORK (zeros in a child), and
// the target's mappings that the clone's own /proc maps do not list.
#pragma once

#include <cstdint>
#include <vector>

#include "snapshot/snapshot.h"

namespace dumpscope {

struct UnforkedRegion {
    uint64_t start = 0;
    uint64_t end = 0;
    const char* advice = "";     // "MADV_DONTFORK" or "MADV_WIPEONFORK"
    bool copy_in_pause = false;  // all of them fit in the budget: copy while the target is stopped
    uint64_t size() const { return end - start; }
};

// The readable, non-device mappings marked dont_fork or wipe_on_fork, in address order. They
// are copied during the pause when their total is at most `pause_budget` bytes; otherwise
// none is (copy_in_pause false: they are to be read from the target after it resumed).
std::vector<UnforkedRegion> unforked_regions(const std::vector<Mapping>& mappings,
                                             uint64_t pause_budget);

// The readable, non-device mappings of `target` (sorted by start) not marked dont_fork or
// wipe_on_fork that `clone` (sorted by start) does not list with the same start and end: marked
// MADV_DONTFORK after their VmFlags were read. One merge pass over both lists: linear.
std::vector<const Mapping*> mappings_missing_from_clone(const std::vector<Mapping>& target,
                                                        const std::vector<Mapping>& clone);

}  // namespace dumpscope
