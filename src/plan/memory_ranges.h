// Sets of address ranges: normalising (sort, merge) and clipping to what is readable.
#pragma once

#include <vector>

#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Sorts and merges overlapping or touching ranges; drops empty ones.
std::vector<MemoryRange> normalize_ranges(std::vector<MemoryRange> ranges);

// The parts of `a` that `b` also covers; both sorted and non-overlapping (normalized).
std::vector<MemoryRange> intersect_ranges(const std::vector<MemoryRange>& a,
                                          const std::vector<MemoryRange>& b);

// The parts of `range` that lie inside readable mappings we may read (not device memory,
// not [vvar]).
std::vector<MemoryRange> clip_to_readable(const Snapshot& snapshot, MemoryRange range);

// True if the mapping's bytes can and may be read into a dump.
bool mapping_is_dumpable(const Mapping& mapping);

}  // namespace dumpscope
