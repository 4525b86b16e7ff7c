// What the heap is made of: the walked chunks grouped by size and, for C++ objects, by the class
// their vtable names (`_ZTV...` symbols: "1,200,000 x OrderCache::Entry (72 B)"), biggest first,
// with a few sample addresses per group. The basis of `!heap -stat` and the memory findings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "analysis/dwfl_session.h"
#include "diagnosis/glibc_heap_walk.h"

namespace dumpscope {

struct ChunkGroup {
    uint64_t chunk_size = 0;  // header included
    std::string type;         // the class of the vtable in the first word, "" if none
    uint64_t count = 0;
    uint64_t bytes = 0;             // count * chunk_size
    std::vector<uint64_t> samples;  // user addresses of the first few chunks
};

struct HeapStatistics {
    std::vector<ChunkGroup> groups;  // in-use chunks only, by bytes, biggest first
    uint64_t in_use_bytes = 0;
    uint64_t in_use_chunks = 0;
    uint64_t typed_chunks = 0;       // chunks whose first word is a vtable
    std::vector<uint32_t> group_of;  // per chunk given: its index in groups, kNoGroup if free
    static constexpr uint32_t kNoGroup = UINT32_MAX;
};

// Groups the in-use chunks of `walk`. Symbols of the session name vtables; without them, groups
// are by size alone. `samples` addresses are kept per group.
HeapStatistics heap_statistics(const analysis::DwflSession& session, const HeapWalk& walk,
                               size_t samples = 3);

// The same over any chunks (the walk's and the mmapped ones, say). The first words of chunks of
// `walk` (when given) are the walk's; those of other chunks are read from the dump.
HeapStatistics heap_statistics(const analysis::DwflSession& session,
                               std::span<const HeapChunk> chunks, size_t samples = 3,
                               const HeapWalk* walk = nullptr);

// "OrderCache::Entry" for "_ZTVN10OrderCache5EntryE": the class a vtable symbol is for, "" if the
// symbol is not a vtable.
std::string class_of_vtable_symbol(const std::string& symbol);

}  // namespace dumpscope
