// What the memory findings of one dump start from, computed once per dump: the address space by
// usage, the process's resident memory, glibc's heap walked (arenas, chunks, mmapped chunks), the
// program's in-use chunks grouped by size and C++ class, and which of them a mark pass over the
// dump's memory reaches. A dump that cannot give the heap says why and which dump type would.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/dump_analysis.h"
#include "diagnosis/address_usage.h"
#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/glibc_malloc_locator.h"
#include "diagnosis/glibc_mmapped_chunks.h"
#include "diagnosis/heap_reachability.h"
#include "diagnosis/heap_statistics.h"

namespace dumpscope::diagnosis {

inline constexpr size_t kShownGroups = 5;  // groups a finding shows, with samples
inline constexpr size_t kSamplesPerGroup = 3;

struct MemoryFacts {
    AddressUsage usage;
    std::optional<uint64_t> resident_bytes;  // VmRSS when the dump recorded /proc/PID/status

    bool heap_walked = false;
    std::string heap_unavailable;  // why not, and which dump type carries it
    GlibcMalloc malloc;
    HeapWalk walk;
    MmappedChunks mmapped;
    // The program's in-use chunks, sorted by address: the walk's (less malloc's own
    // tcache_perthread_structs) and the mmapped ones. stats, reach and the per-group vectors
    // below are over these.
    std::vector<HeapChunk> chunks;
    HeapStatistics stats;
    Reachability reach;
    bool reach_run = false;  // false when the walk was incomplete (then nothing is unreachable)
    std::vector<uint64_t> unreachable_count;                 // per group
    std::vector<uint64_t> unreachable_bytes;                 // per group
    std::vector<std::vector<uint64_t>> unreachable_samples;  // per group: user addresses
    std::vector<uint64_t> watched;  // header addresses whose referrers reach.referrers holds

    // Referrers of the chunk whose user memory starts at `user_address` (empty when not
    // watched or none was found).
    const std::vector<Referrer>* referrers_of(uint64_t user_address) const;
};

MemoryFacts gather_memory_facts(analysis::DumpAnalysis& dump);

}  // namespace dumpscope::diagnosis
