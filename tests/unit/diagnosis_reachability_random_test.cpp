// Random heaps, three ways to the same answer: the mark pass reading each chunk as it marks it
// (no graph), following a graph it reads itself, and following the graph made from what the heap
// walk's follower kept (told of the heaps out of order, in batches of random sizes, some chunks
// free, the last chunk of a heap cut short by the end of the dump's memory, mmapped chunks it does
// not see; the graph in one part and in two). Reachable chunks, bytes scanned and the referrers
// of watched chunks must agree, for many seeds; and under a budget the pass may run out of, a
// graph made ahead is not followed.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "diagnosis/chunk_pointer_scan.h"
#include "diagnosis/glibc_mmapped_chunks.h"
#include "diagnosis/heap_pointer_graph.h"
#include "diagnosis/heap_reachability.h"
#include "fake_word_memory.h"

namespace dumpscope {
namespace {

constexpr uint64_t kData = 0x555555558000;  // rw- /bin/app: roots
constexpr uint64_t kStack = 0x7ffd00000000;
constexpr uint64_t kHeaps[] = {0x555555600000, 0x7f2000000000, 0x7f2004000000};
constexpr uint64_t kHeapSpan = 0x40000;
constexpr uint64_t kMmapped[] = {0x7f3000000000, 0x7f3000100000};  // mmapped chunks

Mapping rw(uint64_t start, uint64_t size) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = m.write = true;
    return m;
}

struct RandomProcess {
    std::mt19937_64 random;
    test::FakeWordMemory memory;
    Snapshot snapshot;
    std::vector<std::vector<HeapChunk>> heaps;  // as a walk finds them, headers' states
    std::vector<HeapChunk> chunks;              // in use, sorted: what the pass marks
    std::vector<std::pair<uint64_t, uint64_t>> excluded;
    std::vector<uint64_t> held_ends;  // per heap, where the dump's memory of it ends

    explicit RandomProcess(uint32_t seed) : random(seed) {
        memory.region(kData, 0x2000);
        memory.region(kStack, 0x4000);
        snapshot.mappings = {rw(kData, 0x2000), rw(kStack, 0x4000)};
        for (uint64_t heap : kHeaps) {
            std::vector<HeapChunk> walked;
            uint64_t p = heap;
            const uint64_t end = heap + 0x2000 + random() % (kHeapSpan - 0x4000);
            while (p + 0x400 < end) {
                const uint64_t size = 32 + 16 * (random() % 40);
                const auto state = random() % 6 == 0 ? ChunkState::kFree : ChunkState::kInUse;
                walked.push_back(HeapChunk{p, size, state, 0});
                p += size;
            }
            // The dump's memory ends inside the last chunk, or just after it (its next
            // prev_size word missing), or a little later.
            const uint64_t held = p - walked.back().size + 24 + 8 * (random() % 4) +
                                  (random() % 2) * walked.back().size;
            memory.region(heap, held - heap);
            held_ends.push_back(held);
            snapshot.mappings.push_back(rw(heap, kHeapSpan));
            excluded.emplace_back(heap, heap + kHeapSpan);
            heaps.push_back(std::move(walked));
        }
        for (const auto& heap : heaps) {
            for (const HeapChunk& c : heap)
                if (c.state == ChunkState::kInUse) chunks.push_back(c);
        }
        // Chunks of their own mappings (not the walk's: the follower does not see them).
        for (uint64_t at : kMmapped) {
            const uint64_t size = 0x2000 + 0x1000 * (random() % 3);
            memory.region(at, size);
            snapshot.mappings.push_back(rw(at, size));
            excluded.emplace_back(at, at + size);
            chunks.push_back(HeapChunk{at, size, ChunkState::kInUse, kMmappedChunkArena});
        }
        std::sort(chunks.begin(), chunks.end(),
                  [](const HeapChunk& a, const HeapChunk& b) { return a.address < b.address; });
        // Words: pointers into chunks (interior ones too, free ones too), into the data,
        // numbers; written into chunks, the data and the live stack.
        const auto any_chunk = [&]() -> const HeapChunk& {
            const auto& heap = heaps[random() % heaps.size()];
            return heap[random() % heap.size()];
        };
        const auto some_word = [&]() -> uint64_t {
            switch (random() % 5) {
                case 0:
                case 1: {
                    const HeapChunk& c = any_chunk();
                    return c.address + 16 + 8 * (random() % ((c.size - 16) / 8));
                }
                case 2:
                    return kData + 8 * (random() % 0x400);
                case 3:
                    return random();
                default:
                    return 0;
            }
        };
        for (const auto& heap : heaps) {
            for (const HeapChunk& c : heap) {
                for (int n = random() % 5; n > 0; --n) {
                    const uint64_t at = c.address + 16 + 8 * (random() % ((c.size - 8) / 8));
                    if (memory_holds(at)) memory.put(at, some_word());
                }
            }
        }
        for (const HeapChunk& c : chunks) {
            if (c.arena != kMmappedChunkArena) continue;
            for (int n = 0; n < 40; ++n)
                memory.put(c.address + 16 + 8 * (random() % 0x3f0), some_word());
        }
        for (int n = 0; n < 12; ++n) memory.put(kData + 8 * (random() % 0x400), some_word());
        for (int n = 0; n < 6; ++n)
            memory.put(kStack + 0x2000 + 8 * (random() % 0x400), some_word());
        Thread t;
        t.tid = 7;
        t.regs.edit_x86_64().gp.rsp = kStack + 0x2000;
        t.regs.edit_x86_64().gp.rbx = some_word();
        snapshot.threads = {t};
        snapshot.memory = memory.source();
    }

    bool memory_holds(uint64_t at) const {
        for (size_t h = 0; h < held_ends.size(); ++h) {
            if (at >= kHeaps[h] && at + 8 <= held_ends[h]) return true;
        }
        return false;
    }

    ScannedChunks follow() {
        ChunkPointerScan pointers(snapshot);
        std::vector<size_t> order(heaps.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), random);
        for (size_t h : order) {
            std::span<const HeapChunk> rest(heaps[h]);
            while (!rest.empty()) {
                const size_t n = std::min<size_t>(rest.size(), 1 + random() % 64);
                pointers.walked(rest.first(n));
                rest = rest.subspan(n);
            }
        }
        return pointers.finish();
    }

    std::vector<uint64_t> watch() {
        std::vector<uint64_t> out;
        for (int n = 0; n < 6; ++n) out.push_back(chunks[random() % chunks.size()].address);
        return out;
    }
};

void expect_same(const Reachability& a, const Reachability& b, const char* what) {
    ASSERT_TRUE(a.complete && b.complete) << what;
    EXPECT_EQ(a.reachable, b.reachable) << what;
    EXPECT_EQ(a.scanned_bytes, b.scanned_bytes) << what;
    ASSERT_EQ(a.referrers.size(), b.referrers.size()) << what;
    for (size_t i = 0; i < a.referrers.size(); ++i) {
        ASSERT_EQ(a.referrers[i].size(), b.referrers[i].size()) << what << " watched " << i;
        for (size_t k = 0; k < a.referrers[i].size(); ++k) {
            EXPECT_EQ(a.referrers[i][k].kind, b.referrers[i][k].kind) << what;
            EXPECT_EQ(a.referrers[i][k].address, b.referrers[i][k].address) << what;
            EXPECT_EQ(a.referrers[i][k].chunk, b.referrers[i][k].chunk) << what;
        }
    }
}

TEST(ReachabilityRandom, TheFollowersGraphTheReadGraphAndNoGraphAgree) {
    for (uint32_t seed = 1; seed <= 60; ++seed) {
        SCOPED_TRACE(seed);
        RandomProcess p(seed);
        const std::vector<uint64_t> watch = p.watch();
        ReachabilityLimits no_graph;
        no_graph.max_graph_edges = 0;
        const Reachability read_when_marked =
            find_reachable(p.snapshot, p.chunks, p.excluded, watch, no_graph);
        const Reachability read_graph = find_reachable(p.snapshot, p.chunks, p.excluded, watch);
        const ScannedChunks scanned = p.follow();
        ASSERT_TRUE(scanned.usable);
        const PointerGraph graph = PointerGraph::build(*p.snapshot.memory, p.chunks, &scanned);
        ASSERT_TRUE(graph.complete());
        const Reachability followed =
            find_reachable(p.snapshot, p.chunks, p.excluded, watch, {}, &graph);
        // The same graph on two threads (split where the cost says, the cursor mid-way).
        PointerGraphLimits two_threads;
        two_threads.two_threads_from_bytes = 0;
        const PointerGraph halves =
            PointerGraph::build(*p.snapshot.memory, p.chunks, &scanned, two_threads);
        const Reachability followed_halves =
            find_reachable(p.snapshot, p.chunks, p.excluded, watch, {}, &halves);
        expect_same(read_when_marked, read_graph, "read graph");
        expect_same(read_when_marked, followed, "follower's graph");
        expect_same(read_when_marked, followed_halves, "follower's graph in halves");
        // A budget the pass may run out of: a graph made ahead is not followed.
        ReachabilityLimits small;
        small.max_scan_bytes = 0x8000;
        ASSERT_FALSE(pointer_graph_fits(p.snapshot, p.chunks, small));
        const Reachability cut = find_reachable(p.snapshot, p.chunks, p.excluded, watch, small);
        const Reachability cut_given =
            find_reachable(p.snapshot, p.chunks, p.excluded, watch, small, &graph);
        EXPECT_EQ(cut.complete, cut_given.complete);
        EXPECT_EQ(cut.reachable, cut_given.reachable);
        EXPECT_EQ(cut.scanned_bytes, cut_given.scanned_bytes);
        const size_t reached = std::count(followed.reachable.begin(), followed.reachable.end(), 1);
        EXPECT_GT(reached, 0u);  // the roots reach something: the test tests something
    }
}

}  // namespace
}  // namespace dumpscope
