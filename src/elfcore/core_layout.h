// Where every byte of an ELF core goes: the PT_LOAD segments (one per mapping, split where only
// part of it is dumped) and their file offsets.
#pragma once

#include <elf.h>

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::elfcore {

struct LoadSegment {
    uint64_t vaddr = 0;
    uint64_t memsz = 0;
    bool has_bytes = false;  // all of its bytes are in the file (filesz == memsz), or none
    uint32_t flags = 0;      // PF_R | PF_W | PF_X
    uint64_t offset = 0;     // file offset, set by assign_file_offsets
    uint64_t filesz() const { return has_bytes ? memsz : 0; }
    uint64_t end() const { return vaddr + memsz; }
};

// content.memory widened to whole pages of `page` bytes (sorted, merged), when
// content.whole_pages is on; otherwise content.memory as it is. The core writer reads every byte
// of these ranges from the target: a segment never claims bytes that were not read.
Result<std::vector<MemoryRange>> core_memory_ranges(const DumpContent& content, uint64_t page);

// One segment per mapping of the snapshot, split at the edges of the dumped memory: every
// content.memory range, widened to whole pages (unless content.whole_pages is off), has its bytes
// in the file. Dumped pages outside every mapping get segments of their own (flags PF_R). Sorted
// by address, never overlapping.
Result<std::vector<LoadSegment>> plan_load_segments(const Snapshot& snapshot,
                                                    const DumpContent& content, uint64_t page);

// Lays out the bytes of the segments that have bytes from `data_start` on, each at an offset
// congruent to its address modulo the page size (page-aligned for page-aligned segments).
// Segments without bytes get the current offset. Returns the end of the data.
Result<uint64_t> assign_file_offsets(std::vector<LoadSegment>& segments, uint64_t data_start,
                                     uint64_t page);

}  // namespace dumpscope::elfcore
