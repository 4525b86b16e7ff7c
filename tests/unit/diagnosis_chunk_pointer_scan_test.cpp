// The follower of the heap walk: it reads the chunks it is told of on its own thread and keeps
// the words that point into writable memory (with their offsets), for chunks whose headers say
// they are in use only (finish() reads alongside it what it has not come to); it puts heaps told
// of out of address order in order, records a chunk the dump holds only in part, and gives up
// (unusable) past its word limit or without a memory map.
// The pointer graph made from what it kept is the graph made by reading the chunks, and so is the
// mark pass that follows it, referrers of watched chunks included.
#include <gtest/gtest.h>

#include <vector>

#include "diagnosis/chunk_pointer_scan.h"
#include "diagnosis/heap_pointer_graph.h"
#include "diagnosis/heap_reachability.h"
#include "fake_word_memory.h"

namespace dumpscope {
namespace {

constexpr uint64_t kText = 0x555555554000;  // r-x /bin/app
constexpr uint64_t kData = 0x555555558000;  // rw- /bin/app
constexpr uint64_t kHeap = 0x555555600000;  // [heap]: 8 chunks of 0x40, up to its end
constexpr uint64_t kHeapSize = 8 * 0x40;
constexpr uint64_t kHeap2 = 0x7f0000000000;  // a thread's heap: 4 chunks of 0x40
constexpr uint64_t kChunk = 0x40;

constexpr uint64_t at(int n) { return kHeap + kChunk * static_cast<uint64_t>(n); }
constexpr uint64_t at2(int n) { return kHeap2 + kChunk * static_cast<uint64_t>(n); }
constexpr uint64_t user(uint64_t header) { return header + 16; }

Mapping mapping(uint64_t start, uint64_t size, bool write, std::string path) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = true;
    m.write = write;
    m.exec = !write;
    m.path = std::move(path);
    return m;
}

struct Heaps {
    test::FakeWordMemory memory;
    Snapshot snapshot;
    std::vector<HeapChunk> main, second;  // as the walk tells of them (headers' states)

    Heaps() {
        memory.region(kText, 0x1000);
        memory.region(kData, 0x1000);
        memory.region(kHeap, kHeapSize);  // chunk 7's next prev_size word is past the end
        memory.region(kHeap2, 4 * kChunk + 8);
        snapshot.mappings = {
            mapping(kText, 0x1000, false, "/bin/app"), mapping(kData, 0x1000, true, "/bin/app"),
            mapping(kHeap, 0x21000, true, "[heap]"), mapping(kHeap2, 0x21000, true, "")};
        for (int n = 0; n < 8; ++n) main.push_back({at(n), kChunk, ChunkState::kInUse, 0});
        main[3].state = ChunkState::kFree;
        for (int n = 0; n < 4; ++n) second.push_back({at2(n), kChunk, ChunkState::kInUse, 1});
        memory.put(user(at(0)), user(at(1)));        // a chunk: kept
        memory.put(user(at(0)) + 8, kText + 0x100);  // code: not writable, not kept
        memory.put(user(at(0)) + 16, 0x1234);        // a number
        memory.put(user(at(0)) + 24, kData + 0x20);  // a global: writable, kept
        memory.put(user(at(0)) + 32, user(at(4)));
        memory.put(user(at(1)) + 8, user(at2(2)) + 0x10);  // into the thread's heap
        memory.put(user(at(3)), user(at(4)));              // in a free chunk: not read
        memory.put(user(at(4)) + 0x20, user(at(0)));       // the last word of its user memory
        memory.put(at(5), user(at(2)));  // chunk 4's next prev_size word (chunk 4's, in use)
        memory.put(user(at(7)), user(at(6)));
        memory.put(user(at2(1)), user(at(7)));  // back into the main heap
        memory.put(user(at2(2)), user(at2(1)));
        memory.put(at2(4), user(at2(0)));  // chunk 3's prev_size word of the next one
        snapshot.memory = memory.source();
    }

    // A walk that told of the thread's heap first, then the main heap, in batches.
    ScannedChunks scan(uint64_t max_words = ChunkPointerScan::kMostWords) {
        ChunkPointerScan pointers(snapshot, max_words);
        pointers.walked(second);
        pointers.walked(std::span<const HeapChunk>(main).first(5));
        pointers.walked(std::span<const HeapChunk>(main).subspan(5));
        return pointers.finish();
    }

    // What the reachability pass marks: the in-use chunks, sorted.
    std::vector<HeapChunk> program_chunks() const {
        std::vector<HeapChunk> out;
        for (const HeapChunk& c : main)
            if (c.state == ChunkState::kInUse) out.push_back(c);
        out.insert(out.end(), second.begin(), second.end());
        return out;
    }
};

const ScannedChunk* record_of(const ScannedChunks& s, uint64_t address) {
    for (const ScannedChunk& c : s.chunks)
        if (c.address == address) return &c;
    return nullptr;
}

TEST(ChunkPointerScan, KeepsTheWordsThatPointIntoWritableMemoryWithTheirOffsets) {
    Heaps h;
    const ScannedChunks s = h.scan();
    ASSERT_TRUE(s.usable);
    const ScannedChunk* c0 = record_of(s, at(0));
    ASSERT_NE(c0, nullptr);
    ASSERT_EQ(c0->last - c0->first, 3u);
    EXPECT_EQ(s.values[c0->first], user(at(1)));
    EXPECT_EQ(s.offsets[c0->first], 0u);
    EXPECT_EQ(s.values[c0->first + 1], kData + 0x20);
    EXPECT_EQ(s.offsets[c0->first + 1], 24u);
    EXPECT_EQ(s.offsets[c0->first + 2], 32u);
    EXPECT_EQ(c0->bytes, kChunk + 8 - 16);  // user memory and the next prev_size word
    // The last word of chunk 4's user memory, and its next chunk's prev_size word.
    const ScannedChunk* c4 = record_of(s, at(4));
    ASSERT_NE(c4, nullptr);
    ASSERT_EQ(c4->last - c4->first, 2u);
    EXPECT_EQ(s.offsets[c4->first], 0x20u);
    EXPECT_EQ(s.offsets[c4->first + 1], kChunk - 16);
    EXPECT_EQ(record_of(s, at(3)), nullptr);  // free: not read
    EXPECT_EQ(record_of(s, at(2)), nullptr);  // nothing that points anywhere
    // Chunk 7 ends where the dump's memory does: read short, without its next prev_size word.
    const ScannedChunk* c7 = record_of(s, at(7));
    ASSERT_NE(c7, nullptr);
    EXPECT_EQ(c7->bytes, kChunk - 16);
    // The thread's heap was told of first; the records are in address order all the same.
    for (size_t i = 1; i < s.chunks.size(); ++i)
        EXPECT_LT(s.chunks[i - 1].address, s.chunks[i].address);
    EXPECT_NE(record_of(s, at2(1)), nullptr);
    EXPECT_TRUE(s.covers(h.program_chunks()));
}

// Many batches, told faster than the thread reads them: finish() reads what the thread has not
// come to, alongside it; whoever read a batch, the result is every chunk's words, in order.
TEST(ChunkPointerScan, WhatTheThreadAndFinishReadTogetherIsEveryChunkInOrder) {
    constexpr uint64_t kBig = 0x7e0000000000;
    constexpr int kChunks = 4000;
    test::FakeWordMemory memory;
    memory.region(kBig, kChunks * kChunk + 8);
    Snapshot snapshot;
    snapshot.mappings = {mapping(kBig, kChunks * kChunk + 8, true, "")};
    std::vector<HeapChunk> chunks;
    for (int n = 0; n < kChunks; ++n) {
        const uint64_t header = kBig + kChunk * static_cast<uint64_t>(n);
        chunks.push_back({header, kChunk, ChunkState::kInUse, 0});
        // chunk n points to chunk (n * 7) % kChunks, at an offset that depends on n
        memory.put(header + 16 + 8 * static_cast<uint64_t>(n % 5),
                   kBig + kChunk * static_cast<uint64_t>((n * 7) % kChunks) + 16);
    }
    snapshot.memory = memory.source();
    for (int round = 0; round < 5; ++round) {
        ChunkPointerScan pointers(snapshot);
        // The upper half first, then the lower, in batches of 40.
        for (int from : {kChunks / 2, 0}) {
            for (int b = from; b < from + kChunks / 2; b += 40) {
                pointers.walked(std::span<const HeapChunk>(chunks).subspan(b, 40));
            }
        }
        const ScannedChunks s = pointers.finish();
        ASSERT_TRUE(s.usable);
        ASSERT_EQ(s.chunks.size(), static_cast<size_t>(kChunks));
        for (int n = 0; n < kChunks; ++n) {
            const ScannedChunk& c = s.chunks[n];
            ASSERT_EQ(c.address, chunks[n].address);
            ASSERT_EQ(c.last - c.first, 1u);
            EXPECT_EQ(s.values[c.first],
                      kBig + kChunk * static_cast<uint64_t>((n * 7) % kChunks) + 16);
            EXPECT_EQ(s.offsets[c.first], 8u * static_cast<uint32_t>(n % 5));
        }
    }
}

TEST(ChunkPointerScan, GivesUpPastItsWordLimitOrWithoutAMemoryMap) {
    Heaps h;
    EXPECT_FALSE(h.scan(/*max_words=*/3).usable);
    EXPECT_TRUE(h.scan(/*max_words=*/100).usable);
    h.snapshot.mappings.clear();
    EXPECT_FALSE(h.scan().usable);
}

TEST(ChunkPointerScan, StopsWhenDestroyedUnfinished) {
    Heaps h;
    for (int round = 0; round < 20; ++round) {
        ChunkPointerScan pointers(h.snapshot);
        pointers.walked(h.main);
    }  // each destructor stops and joins its thread
}

std::vector<std::pair<uint64_t, uint32_t>> pointers_of(const PointerGraph& graph, uint32_t i) {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    graph.for_each_pointer(i,
                           [&](uint64_t address, uint32_t to) { out.emplace_back(address, to); });
    return out;
}

TEST(ChunkPointerScan, TheGraphFromKeptWordsIsTheGraphFromReadingTheChunks) {
    Heaps h;
    const ScannedChunks s = h.scan();
    const std::vector<HeapChunk> chunks = h.program_chunks();
    const PointerGraph kept = PointerGraph::build(*h.snapshot.memory, chunks, &s);
    const PointerGraph read = PointerGraph::build(*h.snapshot.memory, chunks, nullptr);
    ASSERT_TRUE(kept.complete() && read.complete());
    size_t edges = 0;
    for (uint32_t i = 0; i < chunks.size(); ++i) {
        const auto a = kept.targets(i);
        const auto b = read.targets(i);
        EXPECT_EQ(std::vector<uint32_t>(a.begin(), a.end()),
                  std::vector<uint32_t>(b.begin(), b.end()))
            << i;
        EXPECT_EQ(pointers_of(kept, i), pointers_of(read, i)) << i;
        edges += a.size();
    }
    EXPECT_EQ(edges, 9u);
    ASSERT_EQ(kept.short_scans().size(), 1u);
    EXPECT_EQ(kept.short_scans()[0], read.short_scans()[0]);

    // The mark pass from a global (chunk 0), watching chunks 0, 2 and 7.
    h.memory.put(kData + 0x20, user(at(0)));
    h.snapshot.memory = h.memory.source();
    const std::vector<std::pair<uint64_t, uint64_t>> heaps = {{kHeap, kHeap + 0x21000},
                                                              {kHeap2, kHeap2 + 0x21000}};
    const std::vector<uint64_t> watch = {at(0), at(2), at(7)};
    const ScannedChunks again = h.scan();
    const PointerGraph graph = PointerGraph::build(*h.snapshot.memory, chunks, &again);
    const Reachability with = find_reachable(h.snapshot, chunks, heaps, watch, {}, &graph);
    const Reachability without = find_reachable(h.snapshot, chunks, heaps, watch);
    ASSERT_TRUE(with.complete && without.complete);
    EXPECT_EQ(with.reachable, without.reachable);
    EXPECT_EQ(with.scanned_bytes, without.scanned_bytes);
    ASSERT_EQ(with.referrers.size(), 3u);
    for (size_t w = 0; w < watch.size(); ++w) {
        ASSERT_EQ(with.referrers[w].size(), without.referrers[w].size()) << w;
        for (size_t k = 0; k < with.referrers[w].size(); ++k) {
            EXPECT_EQ(with.referrers[w][k].address, without.referrers[w][k].address);
            EXPECT_EQ(with.referrers[w][k].chunk, without.referrers[w][k].chunk);
        }
    }
    // Chunk 0 from the global and from chunk 4; chunk 2 through chunk 4's next prev_size word;
    // chunk 7 from the thread's heap.
    ASSERT_EQ(with.referrers[0].size(), 2u);
    EXPECT_EQ(with.referrers[0][0].kind, Referrer::Kind::kMemory);
    EXPECT_EQ(with.referrers[0][1].address, user(at(4)) + 0x20);
    ASSERT_EQ(with.referrers[1].size(), 1u);
    EXPECT_EQ(with.referrers[1][0].address, at(5));
    EXPECT_EQ(with.referrers[1][0].chunk, at(4));
    ASSERT_EQ(with.referrers[2].size(), 1u);
    EXPECT_EQ(with.referrers[2][0].chunk, at2(1));
}

}  // namespace
}  // namespace dumpscope
