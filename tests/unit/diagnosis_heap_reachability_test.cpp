// The mark pass of the leak finder on a hand-built process: chunks reached from module data, a
// register, the live part of a stack and through other chunks (interior pointers too) are
// reachable; a cycle of chunks nothing else points to, a chunk only a dead stack slot points to
// and one only memory missing from the dump points to are not. A pass over budget calls nothing
// unreachable and says why.
#include <gtest/gtest.h>

#include <vector>

#include "diagnosis/heap_reachability.h"
#include "fake_word_memory.h"
#include "temp_files.h"

namespace dumpscope {
namespace {

constexpr uint64_t kData = 0x555555558000;     // rw- /bin/app (its globals)
constexpr uint64_t kHeap = 0x555555600000;     // [heap]
constexpr uint64_t kMissing = 0x7f0000100000;  // rw- /lib/libx.so, not in the dump
constexpr uint64_t kStack = 0x7ffd00000000;    // [stack]
constexpr uint64_t kRsp = kStack + 0x2000;
constexpr uint64_t kChunk = 0x40;

Mapping rw(uint64_t start, uint64_t size, std::string path) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = m.write = true;
    m.path = std::move(path);
    return m;
}

// Chunk n of the heap: its header address.
constexpr uint64_t at(int n) { return kHeap + kChunk * static_cast<uint64_t>(n); }
constexpr uint64_t user(int n) { return at(n) + 16; }

enum : int { kA, kB, kC, kD, kE, kF, kG, kI, kCount };

struct Process {
    test::FakeWordMemory memory;
    Snapshot snapshot;
    std::vector<HeapChunk> chunks;
    std::vector<std::pair<uint64_t, uint64_t>> heap{{kHeap, kHeap + 0x10000}};

    Process() {
        memory.region(kData, 0x1000);
        memory.region(kHeap, 0x10000);
        memory.region(kStack, 0x4000);
        memory.put(kData + 0x20, user(kA));         // a global points to A
        memory.put(user(kA) + 8, user(kB) + 0x18);  // A points into the middle of B
        memory.put(user(kC), user(kD));             // C and D point to each other only
        memory.put(user(kD), user(kC));
        memory.put(kRsp + 0x100, user(kF));  // a live stack slot points to F
        memory.put(kRsp - 0x400, user(kG));  // a dead one (below rsp) to G
        memory.put(user(kB), user(kB));      // B points to itself
        snapshot.mappings = {rw(kData, 0x1000, "/bin/app"), rw(kHeap, 0x10000, "[heap]"),
                             rw(kMissing, 0x1000, "/lib/libx.so"), rw(kStack, 0x4000, "[stack]")};
        Thread t;
        t.tid = 100;
        t.regs.edit_x86_64().gp.rsp = kRsp;
        t.regs.edit_x86_64().gp.rbx = user(kE) + 4;  // a register points into E
        snapshot.threads = {t};
        for (int n = 0; n < kCount; ++n)
            chunks.push_back(HeapChunk{at(n), kChunk, ChunkState::kInUse, 0});
        // (I: only kMissing, which the dump lacks, would point to it.)
    }
    Reachability run(std::vector<uint64_t> watch = {}, ReachabilityLimits limits = {}) {
        snapshot.memory = memory.source();
        return find_reachable(snapshot, chunks, heap, watch, limits);
    }
    // The same, the memory read from a dump file by pread.
    Reachability run_from_file(const std::string& path, std::vector<uint64_t> watch,
                               ReachabilityLimits limits) {
        snapshot.memory = memory.file_source(path);
        return find_reachable(snapshot, chunks, heap, watch, limits);
    }
};

TEST(HeapReachability, ChunksReachedFromDataRegistersLiveStacksAndOtherChunks) {
    Process p;
    const Reachability r = p.run();
    ASSERT_TRUE(r.complete) << r.note;
    ASSERT_EQ(r.reachable.size(), static_cast<size_t>(kCount));
    EXPECT_EQ(r.reachable[kA], 1);  // global
    EXPECT_EQ(r.reachable[kB], 1);  // interior pointer from A
    EXPECT_EQ(r.reachable[kE], 1);  // rbx
    EXPECT_EQ(r.reachable[kF], 1);  // live stack
    EXPECT_EQ(r.reachable[kC], 0);  // a cycle nothing reaches
    EXPECT_EQ(r.reachable[kD], 0);
    EXPECT_EQ(r.reachable[kG], 0);  // only a dead stack slot
    EXPECT_EQ(r.reachable[kI], 0);
    EXPECT_EQ(r.unreachable_chunks, 4u);
    EXPECT_EQ(r.unreachable_bytes, 4 * kChunk);
    ASSERT_EQ(r.missing_roots.size(), 1u);
    EXPECT_EQ(r.missing_roots[0].path, "/lib/libx.so");
    EXPECT_EQ(r.missing_roots[0].missing_bytes, 0x1000u);
}

TEST(HeapReachability, ReferrersOfWatchedChunksSayWhereThePointerIs) {
    Process p;
    const Reachability r = p.run({at(kA), at(kB), at(kE), at(kC)});
    ASSERT_EQ(r.referrers.size(), 4u);
    ASSERT_EQ(r.referrers[0].size(), 1u);
    EXPECT_EQ(r.referrers[0][0].kind, Referrer::Kind::kMemory);
    EXPECT_EQ(r.referrers[0][0].address, kData + 0x20);
    // B: from A (and from itself, once B was reached).
    ASSERT_FALSE(r.referrers[1].empty());
    EXPECT_EQ(r.referrers[1][0].kind, Referrer::Kind::kChunk);
    EXPECT_EQ(r.referrers[1][0].chunk, at(kA));
    EXPECT_EQ(r.referrers[1][0].address, user(kA) + 8);
    ASSERT_EQ(r.referrers[2].size(), 1u);
    EXPECT_EQ(r.referrers[2][0].kind, Referrer::Kind::kRegister);
    EXPECT_EQ(r.referrers[2][0].reg, "rbx");
    EXPECT_EQ(r.referrers[2][0].tid, 100);
    EXPECT_TRUE(r.referrers[3].empty());  // C: only D, which nothing reaches
}

TEST(HeapReachability, APassOverBudgetCallsNothingUnreachable) {
    Process p;
    ReachabilityLimits limits;
    limits.max_scan_bytes = 64;
    const Reachability r = p.run({}, limits);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.unreachable_chunks, 0u);
    EXPECT_NE(r.note.find("stopped after"), std::string::npos) << r.note;
    EXPECT_LE(r.scanned_bytes, 64u + 0x100000);  // at most one window past the limit
}

void expect_same(const Reachability& a, const Reachability& b) {
    ASSERT_TRUE(a.complete && b.complete) << a.note << b.note;
    EXPECT_EQ(a.reachable, b.reachable);
    EXPECT_EQ(a.scanned_bytes, b.scanned_bytes);
    EXPECT_EQ(a.unreachable_bytes, b.unreachable_bytes);
    ASSERT_EQ(a.referrers.size(), b.referrers.size());
    for (size_t i = 0; i < a.referrers.size(); ++i) {
        ASSERT_EQ(a.referrers[i].size(), b.referrers[i].size()) << i;
        for (size_t k = 0; k < a.referrers[i].size(); ++k) {
            EXPECT_EQ(a.referrers[i][k].kind, b.referrers[i][k].kind);
            EXPECT_EQ(a.referrers[i][k].address, b.referrers[i][k].address);
            EXPECT_EQ(a.referrers[i][k].chunk, b.referrers[i][k].chunk);
        }
    }
}

TEST(HeapReachability, ReadingChunksAsTheyAreMarkedFindsWhatTheGraphOfPointersFinds) {
    Process p;
    p.memory.put(user(kB) + 0x10, user(kA));  // B points back to A, after the word to itself
    const std::vector<uint64_t> watch{at(kA), at(kB), at(kE)};
    const Reachability graph = p.run(watch);
    ReachabilityLimits no_graph;
    no_graph.max_graph_edges = 0;  // too many pointers to keep: chunks are read when marked
    const Reachability read = p.run(watch, no_graph);
    expect_same(graph, read);
    ASSERT_EQ(graph.referrers[0].size(), 2u);  // A: the global, then B
    EXPECT_EQ(graph.referrers[0][1].address, user(kB) + 0x10);
}

// A large heap's graph is read in two halves on two threads, and a dump file by pread: what is
// found is what one thread reading memory in place finds, watched chunks' referrers included
// (pointers in both halves, across the split, and to chunks of the other half).
TEST(HeapReachability, TwoThreadsReadingTheDumpFileFindWhatOneThreadFinds) {
    Process p;
    p.memory.put(user(kB) + 0x10, user(kA));        // B (first half) back to A
    p.memory.put(user(kF) + 0x8, user(kA) + 0x20);  // F (second half) into A
    p.memory.put(user(kF) + 0x10, user(kE));        // and to E, across the split
    p.memory.put(user(kE) + 0x18, user(kI));        // E to I: reachable now
    const std::vector<uint64_t> watch{at(kA), at(kE), at(kI)};
    const Reachability one = p.run(watch);
    ReachabilityLimits two_threads;
    two_threads.two_threads_from_bytes = 0;
    test_files::TempDir dir;
    const Reachability two = p.run_from_file(dir.path + "/dump", watch, two_threads);
    expect_same(one, two);
    expect_same(one, p.run_from_file(dir.path + "/dump2", watch, {}));
    expect_same(one, p.run(watch, two_threads));
    EXPECT_EQ(two.reachable[kI], 1);
    ASSERT_EQ(two.referrers[0].size(), 3u);  // A: the global, B, F (the referrer cap)
    EXPECT_EQ(two.referrers[0][2].chunk, at(kF));
}

TEST(HeapReachability, ChunksPointingInACircleFromARootAreAllReachable) {
    Process p;
    p.memory.put(kData + 0x28, user(kC));  // now a global reaches the C <-> D cycle
    const Reachability r = p.run();
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.reachable[kC], 1);
    EXPECT_EQ(r.reachable[kD], 1);
    EXPECT_EQ(r.unreachable_chunks, 2u);  // G and I
}

TEST(HeapReachability, HeapRangesMergeTheHeapsAndTheMmappedChunks) {
    HeapWalk walk;
    ArenaSummary main;
    main.top_chunk = kHeap + 0x800;
    main.top_size = 0x800;
    main.segments = {{kHeap, kHeap + 0x800}};
    walk.arenas = {main};
    Snapshot s;
    s.mappings = {rw(kHeap, 0x10000, "[heap]")};
    const std::vector<HeapChunk> mmapped = {{0x7f0000200000, 0x2000, ChunkState::kInUse, 0},
                                            {0x7f0000202000, 0x1000, ChunkState::kInUse, 0}};
    const auto ranges = heap_ranges(s, walk, mmapped);
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(ranges[0], (std::pair<uint64_t, uint64_t>{kHeap, kHeap + 0x10000}));
    EXPECT_EQ(ranges[1], (std::pair<uint64_t, uint64_t>{0x7f0000200000, 0x7f0000203000}));
}

}  // namespace
}  // namespace dumpscope
