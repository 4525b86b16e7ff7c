// Walks glibc's malloc heaps in a snapshot's memory: every arena on the ring that starts at
// main_arena, the heaps of each (the brk heap of the main arena, the 64 MiB-aligned mmapped heaps
// of the others), every chunk from the first to the top chunk, and the tcache and fastbin lists,
// whose chunks look in use in the chunk headers but are free. The dump is untrusted: every read is
// checked, every list and loop is bounded, and a walk that loses its way stops there and says
// where. Memory the dump does not hold stops the walk of that heap (a mini dump has no heap).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "diagnosis/glibc_malloc_layout.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

enum class ChunkState : uint8_t {
    kInUse,    // allocated (the next chunk's PREV_INUSE bit is set, and it is in no free list)
    kFree,     // in a bin (PREV_INUSE of the next chunk clear)
    kTcache,   // on a thread's tcache list: free, though its header says in use
    kFastbin,  // on a fastbin list: free, though its header says in use
};

const char* chunk_state_name(ChunkState state);

struct HeapChunk {
    uint64_t address = 0;  // the chunk header; the program's pointer is address + 16
    uint64_t size = 0;     // the chunk size (header included), a multiple of 16
    ChunkState state = ChunkState::kInUse;
    uint16_t arena = 0;  // index into HeapWalk::arenas
    uint64_t user_address() const { return address + 16; }
};

struct HeapSegment {
    uint64_t start = 0;  // first chunk
    uint64_t end = 0;    // where the walk of this segment ended (the top chunk, or a fencepost)
};

struct ArenaSummary {
    uint64_t address = 0;  // the malloc_state
    bool main = false;
    uint64_t system_mem = 0;  // what the arena has from the system (arena->system_mem)
    uint64_t top_chunk = 0;
    uint64_t top_size = 0;
    std::vector<HeapSegment> segments;
    uint64_t in_use_chunks = 0, in_use_bytes = 0;
    uint64_t free_chunks = 0, free_bytes = 0;      // in bins
    uint64_t cached_chunks = 0, cached_bytes = 0;  // on tcache and fastbin lists
    std::string stopped;  // "" when every heap of the arena was walked to its end
};

struct HeapWalkLimits {
    uint64_t max_chunks = 8'000'000;        // about 256 MB of chunk records and first words
    uint64_t max_list_entries = 1'000'000;  // per tcache or fastbin list
    uint32_t max_arenas = 1024;
    uint32_t max_heaps_per_arena = 65536;  // 4 TiB of 64 MiB heaps
};

struct HeapWalk {
    MallocLayout layout;
    std::vector<ArenaSummary> arenas;
    std::vector<HeapChunk> chunks;  // every chunk walked, sorted by address
    // Per chunk: the first word of its user memory (0 when the dump lacks it), read with the
    // header, so that grouping by C++ class does not read the heap again.
    std::vector<uint64_t> first_words;
    // tcache_perthread_structs found (one per thread that used malloc), and their chunks:
    // malloc's own, not the program's.
    uint64_t tcache_structs = 0;
    std::vector<uint64_t> tcache_struct_chunks;
    uint64_t bytes_read = 0;         // heap bytes read (each heap page once)
    std::vector<std::string> notes;  // what did not add up, and where a walk stopped

    uint64_t in_use_bytes() const;
    uint64_t in_use_chunks() const;
    bool complete() const;  // every arena walked to its top
};

// Told of the chunks as the walk finds them, on the walk's thread, a few thousand at a time (the
// span is valid during the call only): each heap's chunks in address order, the heaps in the
// order walked, each chunk's state as its next chunk's header says (kInUse or kFree: the tcache
// and fastbin lists are followed after the walk).
class HeapWalkObserver {
public:
    virtual ~HeapWalkObserver() = default;
    virtual void walked(std::span<const HeapChunk> chunks) = 0;
};

// Walks the heaps of the arena ring at main_arena with `layout`. Fails only when main_arena itself
// cannot be read; everything else that does not add up is a note and a partial walk.
// `observer`, when given, is told of every chunk walked.
Result<HeapWalk> walk_glibc_heap(const Snapshot& snapshot, uint64_t main_arena,
                                 const MallocLayout& layout, const HeapWalkLimits& limits = {},
                                 HeapWalkObserver* observer = nullptr);

}  // namespace dumpscope
