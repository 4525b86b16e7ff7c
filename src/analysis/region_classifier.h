// What each memory region of a snapshot is used for, as WinDbg's !address says it: the stack of
// thread N (and the guard page below it), the heap, the image of module X, a mapped file,
// anonymous memory; with its type (image / mapped / private), its state (committed, reserved:
// PROT_NONE, free: the gaps), its protection and how many of its bytes are in the dump. Types,
// states and protections are the minidump's (minidump/memory_types.def, memory_states.def,
// page_protections.def), so a region reads as MemoryInfoList would describe it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "minidump/minidump_format.h"
#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

enum class RegionUsage { kStack, kGuard, kHeap, kImage, kMappedFile, kAnonymous, kOther, kFree };

const char* usage_name(RegionUsage usage);  // "Stack", "Guard", "Heap", "Image", ...

struct Region {
    uint64_t start = 0;
    uint64_t end = 0;
    RegionUsage usage = RegionUsage::kFree;
    minidump::MemoryType type{};  // MemoryType{} (0) for free space, as Windows says it
    minidump::MemoryState state = minidump::MemoryState::Free;
    uint32_t protect = 0;    // minidump::kPageReadOnly, ...; 0 for free space
    std::string protection;  // "r-xp" as maps says it; "" for free space
    std::string detail;      // "thread 1234", "libc.so.6", "/path", "[vvar]", "brk", "arena"
    std::string path;        // the mapping's path
    uint64_t bytes_in_dump = 0;
    uint64_t size() const { return end - start; }
};

// The top of the x86-64 user address space (47 bits, less the last page).
inline constexpr uint64_t kUserSpaceEnd = 0x7ffffffff000;

// Every mapping of the snapshot, classified, sorted by address; with `include_free`, the gaps
// between them (and up to kUserSpaceEnd) as free regions.
std::vector<Region> classify_regions(const Snapshot& snapshot, bool include_free);

}  // namespace dumpscope::analysis
