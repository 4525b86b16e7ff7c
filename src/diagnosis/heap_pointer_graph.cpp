#include "diagnosis/heap_pointer_graph.h"

#include <algorithm>
#include <array>
#include <exception>
#include <thread>

#include "diagnosis/chunk_pointer_scan.h"
#include "diagnosis/forward_scan.h"
#include "diagnosis/glibc_mmapped_chunks.h"

namespace dumpscope {

namespace {

constexpr uint64_t kWindow = 1u << 20;

}  // namespace

// The graph of chunks [first, last) as read_part keeps it (edge_begin relative to the part's
// own edges).
struct PointerGraph::Part {
    std::vector<uint32_t> edge_begin;
    std::vector<uint32_t> edges;
    std::vector<std::pair<uint32_t, uint64_t>> short_scans;
};

uint64_t chunk_scan_end(const HeapChunk& c) {
    return c.arena == kMmappedChunkArena ? c.address + c.size : c.address + c.size + 8;
}

PointerGraph::PointerGraph(const MemorySource& memory, std::span<const HeapChunk> chunks,
                           const ScannedChunks* scanned)
    : memory_(&memory), chunks_(chunks), scanned_(scanned), index_(chunks) {}

PointerGraph PointerGraph::build(const MemorySource& memory, std::span<const HeapChunk> chunks,
                                 const ScannedChunks* scanned, const PointerGraphLimits& limits) {
    if (scanned != nullptr && (!scanned->usable || !scanned->covers(chunks))) scanned = nullptr;
    PointerGraph graph(memory, chunks, scanned);
    if (chunks.size() >= ChunkIndex::kNone) return graph;
    // What reading a chunk costs: its bytes, or a little for one whose words are kept.
    const auto cost = [&](const HeapChunk& c) -> uint64_t {
        return scanned != nullptr && c.arena != kMmappedChunkArena
                   ? 64
                   : chunk_scan_end(c) - c.user_address();
    };
    uint64_t work = 0;
    for (const HeapChunk& c : chunks) work += cost(c);
    size_t half = chunks.size();
    if (work >= limits.two_threads_from_bytes && std::thread::hardware_concurrency() > 1) {
        uint64_t done = 0;
        for (half = 0; half < chunks.size() && done < work / 2; ++half) done += cost(chunks[half]);
    }
    std::array<Part, 2> parts;
    if (half < chunks.size()) {
        std::exception_ptr failed;
        std::thread second([&] {
            try {
                graph.read_part(half, chunks.size(), limits, parts[1]);
            } catch (...) {
                failed = std::current_exception();
            }
        });
        graph.read_part(0, half, limits, parts[0]);
        second.join();
        if (failed) std::rethrow_exception(failed);
    } else {
        graph.read_part(0, chunks.size(), limits, parts[0]);
    }
    if (parts[0].edges.size() + parts[1].edges.size() > limits.max_edges) return graph;
    if (half == chunks.size()) {  // one part: taken as it is
        graph.edge_begin_ = std::move(parts[0].edge_begin);
        graph.edges_ = std::move(parts[0].edges);
        graph.short_scans_ = std::move(parts[0].short_scans);
    } else {
        graph.edge_begin_.reserve(chunks.size() + 1);
        graph.edges_.reserve(parts[0].edges.size() + parts[1].edges.size());
        for (Part& part : parts) {
            const auto offset = static_cast<uint32_t>(graph.edges_.size());
            for (uint32_t begin : part.edge_begin) graph.edge_begin_.push_back(begin + offset);
            graph.edges_.insert(graph.edges_.end(), part.edges.begin(), part.edges.end());
            graph.short_scans_.insert(graph.short_scans_.end(), part.short_scans.begin(),
                                      part.short_scans.end());
            part = Part{};
        }
    }
    graph.edge_begin_.push_back(static_cast<uint32_t>(graph.edges_.size()));
    graph.complete_ = true;
    return graph;
}

// Reads chunks [first, last) into `part`; stops (with more than limits.max_edges edges) once the
// whole graph is known to be too big. Changes nothing of the graph: it runs on two threads.
void PointerGraph::read_part(size_t first, size_t last, const PointerGraphLimits& limits,
                             Part& part) const {
    ForwardScan scan(*memory_);
    std::vector<uint8_t> buffer(kWindow);
    part.edge_begin.reserve(last - first);
    ScannedChunks::Cursor cursor(scanned_, first < last ? chunks_[first].address : 0);
    for (size_t i = first; i < last; ++i) {
        part.edge_begin.push_back(static_cast<uint32_t>(part.edges.size()));
        const HeapChunk& c = chunks_[i];
        uint32_t previous = ChunkIndex::kNone;
        const auto add = [&](uint64_t word) {
            const uint32_t target = index_.holding(word);
            if (target == ChunkIndex::kNone || target == previous) return true;
            part.edges.push_back(target);
            previous = target;
            return part.edges.size() <= limits.max_edges;
        };
        uint64_t read = 0;
        if (scanned_ != nullptr && c.arena != kMmappedChunkArena) {
            // Read while the walk went on: an arena chunk without a record has no word that
            // could point to a chunk.
            read = chunk_scan_end(c) - c.user_address();
            if (const ScannedChunk* known = cursor.find(c.address)) {
                for (uint32_t k = known->first; k < known->last; ++k) {
                    if (!add(scanned_->values[k])) return;
                }
                read = known->bytes;
            }
        } else {
            read = for_each_word(scan, buffer, c.user_address(), chunk_scan_end(c),
                                 [&](uint64_t word, uint64_t) { return add(word); });
            if (part.edges.size() > limits.max_edges) return;
        }
        if (read != chunk_scan_end(c) - c.user_address()) {
            part.short_scans.emplace_back(static_cast<uint32_t>(i), read);
        }
    }
}

std::vector<std::pair<uint64_t, uint32_t>> PointerGraph::pointers_of(uint32_t i) const {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    const HeapChunk& c = chunks_[i];
    const auto add = [&](uint64_t word, uint64_t address) {
        const uint32_t target = index_.holding(word);
        if (target != ChunkIndex::kNone) out.emplace_back(address, target);
        return true;
    };
    if (scanned_ != nullptr && c.arena != kMmappedChunkArena) {
        ScannedChunks::Cursor cursor(scanned_, c.address);
        if (const ScannedChunk* known = cursor.find(c.address)) {
            for (uint32_t k = known->first; k < known->last; ++k) {
                add(scanned_->values[k], c.user_address() + scanned_->offsets[k]);
            }
        }
        return out;
    }
    ForwardScan scan(*memory_);
    std::vector<uint8_t> buffer(std::min<uint64_t>(kWindow, chunk_scan_end(c) - c.user_address()));
    for_each_word(scan, buffer, c.user_address(), chunk_scan_end(c), add);
    return out;
}

}  // namespace dumpscope
