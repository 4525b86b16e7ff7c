#include "diagnosis/heap_pointer_graph.h"

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
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
    if (scanned != nullptr) graph.word_targets_ = graph.index_.holding_each(scanned->values);
    // What a chunk costs: its bytes to read, or for one whose words were kept (mmapped chunks
    // are not in the walk's heaps) going through them, about as long as reading 256 bytes.
    const auto cost = [&](const HeapChunk& c) -> uint64_t {
        return scanned != nullptr && c.arena != kMmappedChunkArena
                   ? 256
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
        {
            // Joined however this thread's part ends (an exception here included).
            std::jthread second([&] {
                try {
                    graph.read_part(half, chunks.size(), limits, parts[1]);
                } catch (...) {
                    failed = std::current_exception();
                }
            });
            graph.read_part(0, half, limits, parts[0]);
        }
        if (failed) std::rethrow_exception(failed);
    } else {
        graph.read_part(0, chunks.size(), limits, parts[0]);
    }
    if (parts[0].edges.size() + parts[1].edges.size() > limits.max_edges) return graph;
    // The first part grows by the second (its edges shifted past the first's), in place: no
    // new copy of the graph.
    Part& whole = parts[0];
    const auto shift = static_cast<uint32_t>(whole.edges.size());
    for (uint32_t begin : parts[1].edge_begin) whole.edge_begin.push_back(begin + shift);
    whole.edges.insert(whole.edges.end(), parts[1].edges.begin(), parts[1].edges.end());
    whole.short_scans.insert(whole.short_scans.end(), parts[1].short_scans.begin(),
                             parts[1].short_scans.end());
    parts[1] = Part{};
    whole.edge_begin.push_back(static_cast<uint32_t>(whole.edges.size()));
    graph.edge_begin_ = std::move(whole.edge_begin);
    graph.edges_ = std::move(whole.edges);
    graph.short_scans_ = std::move(whole.short_scans);
    graph.complete_ = true;
    return graph;
}

// Reads chunks [first, last) into `part`; stops (with more than limits.max_edges edges) once the
// whole graph is known to be too big. Changes nothing of the graph: it runs on two threads.
void PointerGraph::read_part(size_t first, size_t last, const PointerGraphLimits& limits,
                             Part& part) const {
    ForwardScan scan(*memory_);
    std::vector<uint8_t> buffer(kWindow);
    // The first part's arrays become the graph's (build): room for every chunk's.
    part.edge_begin.reserve(first == 0 ? chunks_.size() + 1 : last - first);
    ScannedChunks::Cursor cursor(scanned_, first < last ? chunks_[first].address : 0);
    for (size_t i = first; i < last; ++i) {
        part.edge_begin.push_back(static_cast<uint32_t>(part.edges.size()));
        const HeapChunk& c = chunks_[i];
        uint32_t previous = ChunkIndex::kNone;
        const auto add = [&](uint32_t target) {
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
                    if (!add(word_targets_[k])) return;
                }
                read = known->bytes;
            }
        } else {
            read =
                for_each_word(scan, buffer, c.user_address(), chunk_scan_end(c),
                              [&](uint64_t word, uint64_t) { return add(index_.holding(word)); });
            if (part.edges.size() > limits.max_edges) return;
        }
        if (read != chunk_scan_end(c) - c.user_address()) {
            part.short_scans.emplace_back(static_cast<uint32_t>(i), read);
        }
    }
}

void PointerGraph::for_each_pointer(
    uint32_t i, const std::function<void(uint64_t address, uint32_t target)>& f) const {
    const HeapChunk& c = chunks_[i];
    const auto add = [&](uint32_t target, uint64_t address) {
        if (target != ChunkIndex::kNone) f(address, target);
        return true;
    };
    if (scanned_ != nullptr && c.arena != kMmappedChunkArena) {
        ScannedChunks::Cursor cursor(scanned_, c.address);
        if (const ScannedChunk* known = cursor.find(c.address)) {
            for (uint32_t k = known->first; k < known->last; ++k) {
                add(word_targets_[k], c.user_address() + scanned_->offsets[k]);
            }
        }
        return;
    }
    ForwardScan scan(*memory_);
    std::vector<uint8_t> buffer(std::min<uint64_t>(kWindow, chunk_scan_end(c) - c.user_address()));
    for_each_word(
        scan, buffer, c.user_address(), chunk_scan_end(c),
        [&](uint64_t word, uint64_t address) { return add(index_.holding(word), address); });
}

}  // namespace dumpscope
