// libFuzzer target: the heap walk, its follower and the reachability pass on arbitrary heap bytes.
// The input is a glibc 2.36 main heap (after a 16-byte prefix: where the top chunk is and which
// words are roots), laid out as the walk reads it; the walk must stop where the bytes stop making
// sense, and the three ways to the reachable chunks (reading each chunk as it is marked, the
// graph the pass reads itself, the graph from what the walk's follower kept) must agree: any
// difference aborts, as a crash would. Never crash, hang or read outside the memory given
// (AddressSanitizer, UndefinedBehaviorSanitizer).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "diagnosis/chunk_pointer_scan.h"
#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/glibc_malloc_layout.h"
#include "diagnosis/heap_pointer_graph.h"
#include "diagnosis/heap_reachability.h"
#include "snapshot/range_memory_source.h"

namespace {

using namespace dumpscope;

constexpr uint64_t kLibcData = 0x7f0000010000;
constexpr uint64_t kMainArena = kLibcData + 0x100;
constexpr uint64_t kHeap = 0x555555600000;
constexpr uint64_t kData = 0x555555558000;

Mapping rw(uint64_t start, uint64_t size) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = m.write = true;
    return m;
}

void put(std::vector<uint8_t>& bytes, uint64_t offset, uint64_t value) {
    if (offset + 8 <= bytes.size()) std::memcpy(bytes.data() + offset, &value, 8);
}

bool same(const Reachability& a, const Reachability& b) {
    if (a.complete != b.complete || a.reachable != b.reachable ||
        a.scanned_bytes != b.scanned_bytes || a.referrers.size() != b.referrers.size()) {
        return false;
    }
    for (size_t i = 0; i < a.referrers.size(); ++i) {
        if (a.referrers[i].size() != b.referrers[i].size()) return false;
        for (size_t k = 0; k < a.referrers[i].size(); ++k) {
            if (a.referrers[i][k].address != b.referrers[i][k].address ||
                a.referrers[i][k].chunk != b.referrers[i][k].chunk ||
                a.referrers[i][k].kind != b.referrers[i][k].kind) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const MallocLayout layout = *malloc_layout_for({2, 36});
    if (size < 16 + 64 || size > (4u << 20)) return 0;
    uint64_t top_offset = 0;
    uint64_t roots = 0;
    std::memcpy(&top_offset, data, 8);
    std::memcpy(&roots, data + 8, 8);
    const std::vector<uint8_t> heap_bytes(data + 16, data + size);
    top_offset = (top_offset % heap_bytes.size()) & ~uint64_t{15};

    auto regions = std::make_shared<std::map<uint64_t, std::vector<uint8_t>>>();
    std::vector<uint8_t>& libc = (*regions)[kLibcData];
    libc.assign(0x1000, 0);
    put(libc, 0x100 + layout.arena_top, kHeap + top_offset);
    put(libc, 0x100 + layout.arena_next, kMainArena);
    put(libc, 0x100 + layout.arena_system_mem, heap_bytes.size());
    (*regions)[kHeap] = heap_bytes;
    // The roots: 64 words of data, each a pointer to some 16-byte step of the heap or not.
    std::vector<uint8_t>& globals = (*regions)[kData];
    globals.assign(64 * 8, 0);
    for (unsigned i = 0; i < 64; ++i) {
        if ((roots >> i) & 1) put(globals, 8 * i, kHeap + 16 + ((i * 0x1f0) % heap_bytes.size()));
    }
    std::vector<DumpMemoryRange> ranges;
    for (auto& [start, bytes] : *regions) ranges.push_back({start, bytes});
    auto memory = RangeMemorySource::create(std::move(ranges), regions);
    if (!memory.ok()) std::abort();

    Snapshot snapshot;
    snapshot.memory = *memory;
    snapshot.mappings = {rw(kData, 0x1000), rw(kHeap, heap_bytes.size() + 0x1000),
                         rw(kLibcData, 0x1000)};

    ChunkPointerScan pointers(snapshot);
    auto walk = walk_glibc_heap(snapshot, kMainArena, layout, {}, &pointers);
    if (!walk.ok()) return 0;
    std::vector<HeapChunk> chunks;
    for (const HeapChunk& c : walk->chunks)
        if (c.state == ChunkState::kInUse) chunks.push_back(c);
    const ScannedChunks scanned = pointers.finish();
    if (chunks.empty()) return 0;
    const std::vector<std::pair<uint64_t, uint64_t>> excluded = {
        {kHeap, kHeap + heap_bytes.size() + 0x1000}};
    std::vector<uint64_t> watch;
    for (size_t i = 0; i < chunks.size() && watch.size() < 4; i += 1 + chunks.size() / 4) {
        watch.push_back(chunks[i].address);
    }
    ReachabilityLimits no_graph;
    no_graph.max_graph_edges = 0;
    const Reachability read = find_reachable(snapshot, chunks, excluded, watch, no_graph);
    const Reachability graph_read = find_reachable(snapshot, chunks, excluded, watch);
    const PointerGraph graph = PointerGraph::build(*snapshot.memory, chunks, &scanned);
    const Reachability followed = find_reachable(snapshot, chunks, excluded, watch, {}, &graph);
    if (!same(read, graph_read) || !same(read, followed)) std::abort();
    return 0;
}
