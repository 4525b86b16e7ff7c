// When a group of heap chunks is a leak suspect, and only then: with evidence. (a) Many of its
// chunks are unreachable (the mark pass found no pointer to them); (b) it grew between two dumps
// of the process; (c) it holds most of a heap that holds most of the process's resident memory.
// The biggest group of a healthy heap is none of these. Pure functions over counts, so each rule
// is tested without a dump.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "diagnosis/heap_statistics.h"

namespace dumpscope::diagnosis {

struct LeakThresholds {
    // (a): a lost pattern, not one stray block.
    uint64_t unreachable_min_chunks = 32;
    uint64_t unreachable_min_bytes = 16u << 10;
    // (b): grown by this many chunks and bytes, and by this share of what it was.
    uint64_t growth_min_chunks = 64;
    uint64_t growth_min_bytes = 256u << 10;
    double growth_min_share = 0.10;
    // (c): a heap of this size in use, this share of the resident memory, the group this share
    // of the heap.
    uint64_t dominant_min_heap_bytes = 256ull << 20;
    double dominant_heap_share_of_resident = 0.75;
    double dominant_group_share_of_heap = 0.5;
};

// (a) The groups (indices) with enough unreachable chunks, most unreachable bytes first.
std::vector<size_t> unreachable_suspects(std::span<const uint64_t> unreachable_count,
                                         std::span<const uint64_t> unreachable_bytes,
                                         const LeakThresholds& t = {});

// How one group (chunk size and type) changed between two dumps.
struct GroupGrowth {
    uint64_t chunk_size = 0;
    std::string type;
    uint64_t count_before = 0, count_after = 0;
    uint64_t bytes_before = 0, bytes_after = 0;
    int64_t grown_bytes() const {
        return static_cast<int64_t>(bytes_after) - static_cast<int64_t>(bytes_before);
    }
    int64_t grown_count() const {
        return static_cast<int64_t>(count_after) - static_cast<int64_t>(count_before);
    }
};

// Every group that grew, most grown bytes first (groups that shrank or stayed are left out).
std::vector<GroupGrowth> group_growth(const std::vector<ChunkGroup>& before,
                                      const std::vector<ChunkGroup>& after);

// (b) Grown enough to be a suspect.
bool growth_is_suspect(const GroupGrowth& growth, const LeakThresholds& t = {});

// (c) The group that dominates a heap dominating the process, if any.
std::optional<size_t> dominant_group(const HeapStatistics& stats,
                                     std::optional<uint64_t> resident_bytes,
                                     const LeakThresholds& t = {});

}  // namespace dumpscope::diagnosis
