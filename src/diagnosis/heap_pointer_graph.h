// The pointers between a heap's chunks, for a mark pass to follow in memory rather than read the
// dump again in the random order marking takes (which would touch the heap's pages in any order
// and keep them all resident). Every chunk is read once, front to back (a large heap in two halves
// on two threads), or not at all when a ChunkPointerScan kept its words while the heap walk went
// on; each aligned word that points into a chunk's user memory (interior pointers too) is an edge.
// 4 bytes an edge, at most PointerGraphLimits::max_edges of them: past that the graph is not kept
// (complete() is false) and a mark pass reads chunks as it marks them.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "diagnosis/chunk_index.h"
#include "diagnosis/glibc_heap_walk.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

struct ScannedChunks;  // diagnosis/chunk_pointer_scan.h

struct PointerGraphLimits {
    uint64_t max_edges = 32'000'000;
    // Heaps with at least this many bytes to read are read on two threads.
    uint64_t two_threads_from_bytes = 64ull << 20;
};

// The end of what the scan of a chunk reads: its user memory, and for a chunk of an arena the
// next chunk's prev_size word, which an in-use chunk owns.
uint64_t chunk_scan_end(const HeapChunk& c);

class PointerGraph {
public:
    // The graph of `chunks` (sorted by address, not overlapping; kept by reference, as are
    // `memory` and `scanned`). `scanned`, when not null, usable and covering every chunk, has
    // the words of the arena chunks: those are not read again.
    static PointerGraph build(const MemorySource& memory, std::span<const HeapChunk> chunks,
                              const ScannedChunks* scanned, const PointerGraphLimits& limits = {});

    // False when the chunks hold more pointers than limits.max_edges: no edge is kept.
    bool complete() const { return complete_; }
    std::span<const HeapChunk> chunks() const { return chunks_; }
    const ChunkIndex& index() const { return index_; }

    // The chunks chunk i points to, in the order of its words; a repeat of the one before left
    // out.
    std::span<const uint32_t> targets(uint32_t i) const {
        return std::span<const uint32_t>(edges_).subspan(edge_begin_[i],
                                                         edge_begin_[i + 1] - edge_begin_[i]);
    }
    // Chunks the dump holds only in part, by index, with the bytes their scan read.
    std::span<const std::pair<uint32_t, uint64_t>> short_scans() const { return short_scans_; }
    // f(address of the word, the chunk) for every word of chunk i that points into a chunk, in
    // order: kept words where the graph had them, else the chunk read again (once per call; no
    // memory beyond a window, whatever the chunk's size).
    void for_each_pointer(uint32_t i,
                          const std::function<void(uint64_t address, uint32_t target)>& f) const;

private:
    struct Part;

    PointerGraph(const MemorySource& memory, std::span<const HeapChunk> chunks,
                 const ScannedChunks* scanned);
    void read_part(size_t first, size_t last, const PointerGraphLimits& limits, Part& part) const;

    const MemorySource* memory_;
    std::span<const HeapChunk> chunks_;
    const ScannedChunks* scanned_;        // null, or usable and covering every chunk
    std::vector<uint32_t> word_targets_;  // per word of scanned_, the chunk it points into
    ChunkIndex index_;
    bool complete_ = false;
    std::vector<uint32_t> edge_begin_;  // chunk i: edges_[edge_begin_[i], edge_begin_[i + 1])
    std::vector<uint32_t> edges_;
    std::vector<std::pair<uint32_t, uint64_t>> short_scans_;
};

}  // namespace dumpscope
