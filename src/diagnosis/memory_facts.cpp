#include "diagnosis/memory_facts.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <thread>
#include <unordered_set>

#include "diagnosis/chunk_pointer_scan.h"
#include "diagnosis/heap_pointer_graph.h"
#include "procfs/status_parser.h"

namespace dumpscope::diagnosis {

namespace {

std::string take_type(const Snapshot& s) {
    return s.capture.dump_type.empty() ? "this dump" : "this " + s.capture.dump_type + " dump";
}

// The walk's in-use chunks less malloc's own, and the mmapped ones, sorted by address, none
// overlapping another.
std::vector<HeapChunk> program_chunks(const HeapWalk& walk, const MmappedChunks& mmapped) {
    const std::unordered_set<uint64_t> own(walk.tcache_struct_chunks.begin(),
                                           walk.tcache_struct_chunks.end());
    std::vector<HeapChunk> out;
    out.reserve(walk.chunks.size() + mmapped.chunks.size());
    for (const HeapChunk& c : walk.chunks) {
        if (c.state == ChunkState::kInUse && own.count(c.address) == 0) out.push_back(c);
    }
    // Both in address order (walk.chunks and mmapped.chunks are): merged.
    const auto by_address = [](const HeapChunk& a, const HeapChunk& b) {
        return a.address < b.address;
    };
    const auto middle = static_cast<ptrdiff_t>(out.size());
    out.insert(out.end(), mmapped.chunks.begin(), mmapped.chunks.end());
    if (std::is_sorted(out.begin() + middle, out.end(), by_address)) {
        std::inplace_merge(out.begin(), out.begin() + middle, out.end(), by_address);
    } else {
        std::sort(out.begin(), out.end(), by_address);
    }
    // A corrupt heap (a heap_info leading into another heap) can give chunks that overlap: the
    // first one of each overlap is kept, so that each address is in one chunk at most.
    uint64_t end = 0;
    std::erase_if(out, [&](const HeapChunk& c) {
        if (c.address < end) return true;
        end = c.size > UINT64_MAX - c.address ? UINT64_MAX : c.address + c.size;
        return false;
    });
    return out;
}

void count_unreachable(MemoryFacts& m) {
    const size_t groups = m.stats.groups.size();
    m.unreachable_count.assign(groups, 0);
    m.unreachable_bytes.assign(groups, 0);
    m.unreachable_samples.assign(groups, {});
    if (!m.reach_run || !m.reach.complete) return;
    for (size_t i = 0; i < m.chunks.size(); ++i) {
        const uint32_t g = m.stats.group_of[i];
        if (g == HeapStatistics::kNoGroup || m.reach.reachable[i] != 0) continue;
        ++m.unreachable_count[g];
        m.unreachable_bytes[g] += m.chunks[i].size;
        if (m.unreachable_samples[g].size() < kSamplesPerGroup)
            m.unreachable_samples[g].push_back(m.chunks[i].user_address());
    }
}

}  // namespace

const std::vector<Referrer>* MemoryFacts::referrers_of(uint64_t user_address) const {
    for (size_t i = 0; i < watched.size() && i < reach.referrers.size(); ++i) {
        if (watched[i] + 16 == user_address) return &reach.referrers[i];
    }
    return nullptr;
}

MemoryFacts gather_memory_facts(analysis::DumpAnalysis& dump) {
    const Snapshot& s = dump.snapshot();
    MemoryFacts m;
    m.usage = address_usage(s);
    if (auto kib = status_number(s.process.status, "VmRSS"); kib && *kib > 0)
        m.resident_bytes = static_cast<uint64_t>(*kib) * 1024;

    auto session = dump.session();
    if (!session.ok()) {
        m.heap_unavailable = "the heap is not walked: " + session.error().message;
        return m;
    }
    auto malloc = locate_glibc_malloc(**session);
    if (!malloc.ok()) {
        m.heap_unavailable = "the heap is not walked: " + malloc.error().message;
        return m;
    }
    // The chunks are read for pointers on a second thread as the walk finds them.
    std::optional<ChunkPointerScan> pointers(std::in_place, s);
    auto walk = walk_glibc_heap(s, malloc->main_arena, malloc->layout, {}, &*pointers);
    if (!walk.ok() || walk->chunks.empty()) {
        m.heap_unavailable = fmt::format(
            "heap not in {} ({}): take --type midi (or full) for memory usage and leak "
            "suspects",
            take_type(s), walk.ok() ? "none of its chunks are" : walk.error().message);
        return m;
    }
    m.heap_walked = true;
    m.malloc = *malloc;
    m.walk = std::move(walk).value();
    m.mmapped = find_mmapped_chunks(s, m.walk);
    m.chunks = program_chunks(m.walk, m.mmapped);
    // A chunk the walk missed may hold the only pointer to another: only a complete walk says
    // what is unreachable. The pointers between chunks are put together on a second thread (the
    // follower's last chunks, the chunks it did not read) while the chunks are grouped.
    // Only for a pass that will follow a graph (pointer_graph_fits); else the follower stops.
    const bool reach = m.walk.complete() && !m.mmapped.truncated;
    const bool graph_ahead = reach && pointer_graph_fits(s, m.chunks);
    if (!graph_ahead) pointers.reset();
    ScannedChunks scanned;
    std::optional<PointerGraph> graph;
    std::exception_ptr graph_failed;
    std::jthread graph_builder;
    if (graph_ahead) {
        graph_builder = std::jthread([&] {
            try {
                scanned = pointers->finish();
                graph.emplace(PointerGraph::build(*s.memory, m.chunks, &scanned));
            } catch (...) {
                graph_failed = std::current_exception();
            }
        });
    }
    m.stats =
        heap_statistics(**session, std::span<const HeapChunk>(m.chunks), kSamplesPerGroup, &m.walk);
    for (size_t g = 0; g < m.stats.groups.size() && g < kShownGroups; ++g) {
        for (uint64_t user : m.stats.groups[g].samples) m.watched.push_back(user - 16);
    }
    if (reach) {
        if (graph_builder.joinable()) graph_builder.join();
        if (graph_failed) std::rethrow_exception(graph_failed);
        const auto excluded = heap_ranges(s, m.walk, m.mmapped.chunks);
        m.reach = find_reachable(s, m.chunks, excluded, m.watched, {}, graph ? &*graph : nullptr);
        m.reach_run = true;
    }
    count_unreachable(m);
    return m;
}

}  // namespace dumpscope::diagnosis
