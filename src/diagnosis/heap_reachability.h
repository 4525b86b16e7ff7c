// Which heap chunks the program can still reach: a conservative mark pass over the dump's memory,
// as core_analyzer's `heap /leak` does. Roots are every thread's registers (general and SSE), the
// live part of each thread's stack (from 128 bytes below its stack pointer to the end of its
// mapping) and every other writable mapping the dump holds, minus the heaps themselves: module
// data and .bss, thread-local storage, anonymous memory of other allocators and runtimes. Every
// aligned word in them that points into a chunk's user memory (interior pointers too) marks the
// chunk, and each marked chunk is scanned once in turn. A chunk left unmarked has no pointer to
// it from anything the program can reach: it is lost. The dump is untrusted: each chunk is
// scanned at most once, and the bytes scanned in all are capped; a pass cut short calls nothing
// unreachable. The pointers between chunks are kept as a graph (heap_pointer_graph.h, read once
// front to back, or from what the heap walk's follower kept: chunk_pointer_scan.h), so that the
// mark pass does not read the heap again in the random order marking takes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/heap_pointer_graph.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

struct ReachabilityLimits {
    uint64_t max_scan_bytes = 16ull << 30;  // roots and chunks together
    size_t referrers_per_chunk = 3;         // kept for the chunks asked about
    // Pointers between chunks kept to follow in memory (4 bytes each) rather than reading each
    // chunk of the dump when it is marked, in the random order marking takes.
    uint64_t max_graph_edges = 32'000'000;
    // Heaps of at least this many bytes are read for the pointer graph on two threads.
    uint64_t two_threads_from_bytes = 64ull << 20;
};

// Where a pointer to a chunk was found.
struct Referrer {
    enum class Kind : uint8_t { kRegister, kStack, kMemory, kChunk };
    Kind kind = Kind::kMemory;
    uint64_t address = 0;  // the word holding the pointer (0 for a register)
    int32_t tid = 0;       // kRegister, kStack: the thread
    std::string reg;       // kRegister: "rbx", "xmm3"
    uint64_t chunk = 0;    // kChunk: the header address of the chunk holding the pointer
};

// A writable mapping the dump lacks (wholly or partly): what it points to is not seen.
struct MissingRoot {
    uint64_t start = 0, end = 0;
    uint64_t missing_bytes = 0;
    std::string path;  // "" for anonymous memory
};

struct Reachability {
    std::vector<uint8_t> reachable;  // one per chunk given, 1 when some root leads to it
    uint64_t unreachable_chunks = 0, unreachable_bytes = 0;
    uint64_t scanned_bytes = 0;
    bool complete = false;  // false when the scan cap cut the pass short
    std::vector<MissingRoot> missing_roots;
    // Referrers of the chunks asked about, in the order asked (found from reachable memory only).
    std::vector<std::vector<Referrer>> referrers;
    std::string note;  // why the pass is incomplete, "" when complete
};

// Marks `chunks` (in-use chunks sorted by address: the walk's and mmapped ones; malloc's own,
// such as tcache_perthread_structs, left out by the caller). `excluded` are address ranges that
// are not roots (the arenas' heaps: [start, end) pairs). `watch` are chunk header addresses whose
// referrers are kept. `graph`, when given, is PointerGraph::build of these same `chunks` (made
// ahead, on another thread): the result is the one without it.
Reachability find_reachable(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
                            std::span<const std::pair<uint64_t, uint64_t>> excluded,
                            std::span<const uint64_t> watch, const ReachabilityLimits& limits = {},
                            const PointerGraph* graph = nullptr);

// Whether a mark pass over `chunks` keeps to limits.max_scan_bytes whatever it finds (every
// writable mapping as a root, every chunk scanned): only then does it follow a pointer graph, so
// a graph made ahead for one that does not is not worth making.
bool pointer_graph_fits(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
                        const ReachabilityLimits& limits = {});

// The ranges a mark pass must not take for roots: each arena's heaps from their first chunk to
// the end of the top chunk, and the mapping of each non-main arena's heap (heap_info and
// malloc_state included), plus the given chunks (mmapped ones). Sorted, merged.
std::vector<std::pair<uint64_t, uint64_t>> heap_ranges(const Snapshot& snapshot,
                                                       const HeapWalk& walk,
                                                       std::span<const HeapChunk> more_chunks);

}  // namespace dumpscope
