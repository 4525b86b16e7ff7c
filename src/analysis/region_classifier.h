// What each memory region of a snapshot is used for, as WinDbg's !address says it: the stack of
// thread N (and the guard page below it), the heap, the image of module X, a mapped file,
// anonymous memory; with its type (image / mapped / private), its state (committed, reserved:
// PROT_NONE, free: the gaps) and how many of its bytes are in the dump.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

enum class RegionUsage { kStack, kGuard, kHeap, kImage, kMappedFile, kAnonymous, kOther, kFree };
enum class RegionType { kImage, kMapped, kPrivate, kNone };
enum class RegionState { kCommit, kReserve, kFree };

const char* usage_name(RegionUsage usage);  // "Stack", "Guard", "Heap", "Image", ...
const char* type_name(RegionType type);     // "MEM_IMAGE", "MEM_MAPPED", "MEM_PRIVATE", ""
const char* state_name(RegionState state);  // "MEM_COMMIT", "MEM_RESERVE", "MEM_FREE"

struct Region {
    uint64_t start = 0;
    uint64_t end = 0;
    RegionUsage usage = RegionUsage::kFree;
    RegionType type = RegionType::kNone;
    RegionState state = RegionState::kFree;
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
