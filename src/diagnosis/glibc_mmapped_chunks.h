// glibc's mmapped chunks: allocations above malloc's mmap threshold (128 KiB at first, raised up
// to 32 MiB as such chunks are freed) are each an anonymous mapping of their own, outside every
// arena and on no list. The kernel merges adjacent ones into one mapping, so each anonymous
// read-write mapping outside the arenas' heaps is read from its start as a run of chunks whose
// header has prev_size 0 and IS_MMAPPED (and nothing else) set in a page-multiple size. A chunk
// that memalign moved off the start of its mapping (prev_size non-zero) is not recognised.
#pragma once

#include <cstdint>
#include <vector>

#include "diagnosis/glibc_heap_walk.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// HeapChunk::arena of an mmapped chunk: it belongs to no arena.
inline constexpr uint16_t kMmappedChunkArena = 0xffff;

struct MmappedChunks {
    std::vector<HeapChunk> chunks;  // sorted by address, state kInUse
    uint64_t bytes = 0;
    bool truncated = false;  // the chunk limit was reached
};

// The mmapped chunks of the anonymous private read-write mappings that hold no heap `walk`
// walked and no thread's stack pointer. At most `max_chunks`; each mapping is read at most once
// per page it holds, two words per chunk.
MmappedChunks find_mmapped_chunks(const Snapshot& snapshot, const HeapWalk& walk,
                                  uint64_t max_chunks = 1'000'000);

}  // namespace dumpscope
