// The glibc heap walker on hand-built heaps laid out as glibc 2.36 lays them (x86-64): chunk
// states from PREV_INUSE bits, tcache and fastbin lists (safe-linked), non-main arenas in
// 64 MiB-aligned heaps, and heaps that do not add up (a walk that stops and says where).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>

#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/glibc_malloc_layout.h"
#include "diagnosis/glibc_malloc_locator.h"
#include "diagnosis/glibc_mmapped_chunks.h"
#include "fake_word_memory.h"

namespace dumpscope {
namespace {

constexpr uint64_t kLibcData = 0x7f0000010000;  // rw- mapping of libc holding main_arena
constexpr uint64_t kMainArena = kLibcData + 0x100;
constexpr uint64_t kHeap = 0x555555600000;  // [heap]
constexpr uint64_t kHeapSize = 0x10000;

using FakeMemory = test::FakeWordMemory;

Mapping mapping(uint64_t start, uint64_t size, std::string path) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = m.write = true;
    m.path = std::move(path);
    return m;
}

MallocLayout glibc_236() {
    auto layout = malloc_layout_for({2, 36});
    EXPECT_TRUE(layout.has_value());
    return *layout;
}

uint64_t protect(uint64_t position, uint64_t pointer) { return (position >> 12) ^ pointer; }

// A chunk header: size with its flag bits.
void chunk(FakeMemory& m, uint64_t at, uint64_t size_field) { m.put(at + 8, size_field); }

struct MainHeap {
    FakeMemory memory;
    Snapshot snapshot;
    uint64_t tcache = kHeap;          // 0x290, the main thread's tcache_perthread_struct
    uint64_t used = kHeap + 0x290;    // 0x50 in use
    uint64_t freed = kHeap + 0x2e0;   // 0x100 in a bin
    uint64_t cached = kHeap + 0x3e0;  // 0x50 on the tcache
    uint64_t fast = kHeap + 0x430;    // 0x20 on fastbin 0
    uint64_t small = kHeap + 0x450;   // 0x30 in use
    uint64_t top = kHeap + 0x480;

    MainHeap() {
        const MallocLayout l = glibc_236();
        memory.region(kLibcData, 0x1000);
        memory.region(kHeap, kHeapSize);
        memory.put(kMainArena + l.arena_top, top);
        memory.put(kMainArena + l.arena_next, kMainArena);
        memory.put(kMainArena + l.arena_system_mem, 0x21000);
        memory.put(kMainArena + l.arena_fastbins, fast);
        memory.put(fast + 16, protect(fast + 16, 0));
        chunk(memory, tcache, 0x291);
        memory.put16(tcache + 16 + 2 * 3, 1);                // counts[3]: chunks of 0x50
        memory.put(tcache + 16 + 128 + 8 * 3, cached + 16);  // entries[3]
        memory.put(cached + 16, protect(cached + 16, 0));
        chunk(memory, used, 0x51);
        chunk(memory, freed, 0x101);
        chunk(memory, cached, 0x50);  // PREV_INUSE clear: the chunk before it is free
        chunk(memory, fast, 0x21);
        chunk(memory, small, 0x31);
        chunk(memory, top, (kHeapSize - 0x480) | 1);
        snapshot.mappings = {mapping(kHeap, kHeapSize, "[heap]"),
                             mapping(kLibcData, 0x1000, "/usr/lib/x86_64-linux-gnu/libc.so.6")};
    }
    Snapshot& with_memory() {
        snapshot.memory = memory.source();
        return snapshot;
    }
};

const HeapChunk* find(const HeapWalk& walk, uint64_t address) {
    for (const HeapChunk& c : walk.chunks) {
        if (c.address == address) return &c;
    }
    return nullptr;
}

TEST(GlibcMallocLayout, Glibc236OffsetsAreThoseOfItsMallocState) {
    const MallocLayout l = glibc_236();
    EXPECT_EQ(l.arena_fastbins, 16u);
    EXPECT_EQ(l.arena_top, 96u);
    EXPECT_EQ(l.arena_next, 2160u);
    EXPECT_EQ(l.arena_system_mem, 2184u);
    EXPECT_EQ(l.arena_size, 0x898u);
    EXPECT_EQ(l.heap_info_size, 48u);
    EXPECT_EQ(l.tcache_struct_size, 640u);
    EXPECT_EQ(l.tcache_struct_chunk_size(), 0x290u);
    EXPECT_TRUE(l.safe_linking);
}

TEST(GlibcMallocLayout, OlderReleasesAndUnknownOnes) {
    auto l229 = malloc_layout_for({2, 29});
    ASSERT_TRUE(l229.has_value());
    EXPECT_EQ(l229->tcache_count_bytes, 1u);
    EXPECT_FALSE(l229->safe_linking);
    EXPECT_EQ(l229->heap_info_size, 32u);
    auto l226 = malloc_layout_for({2, 26});
    ASSERT_TRUE(l226.has_value());
    EXPECT_EQ(l226->arena_top, 88u);  // no have_fastchunks field yet
    EXPECT_FALSE(malloc_layout_for({2, 25}).has_value());
    EXPECT_FALSE(malloc_layout_for({2, 42}).has_value());
    EXPECT_FALSE(malloc_layout_for({3, 0}).has_value());
}

TEST(GlibcMallocLayout, ReleaseFromTheLibraryBanner) {
    auto v = parse_glibc_banner(
        "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\nCopyright");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, (GlibcVersion{2, 36}));
    EXPECT_FALSE(parse_glibc_banner("GLIBC_2.36").has_value());
    EXPECT_FALSE(parse_glibc_banner("GNU C Library stable release version x").has_value());
}

TEST(GlibcHeapWalk, ChunkStatesFromHeadersAndFreeLists) {
    MainHeap heap;
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok()) << walk.error().message;
    EXPECT_TRUE(walk->complete()) << (walk->notes.empty() ? "" : walk->notes[0]);
    ASSERT_EQ(walk->chunks.size(), 6u);
    EXPECT_EQ(find(*walk, heap.tcache)->state, ChunkState::kInUse);
    EXPECT_EQ(find(*walk, heap.used)->state, ChunkState::kInUse);
    EXPECT_EQ(find(*walk, heap.freed)->state, ChunkState::kFree);
    EXPECT_EQ(find(*walk, heap.cached)->state, ChunkState::kTcache);
    EXPECT_EQ(find(*walk, heap.fast)->state, ChunkState::kFastbin);
    EXPECT_EQ(find(*walk, heap.small)->state, ChunkState::kInUse);
    EXPECT_EQ(walk->tcache_structs, 1u);
    ASSERT_EQ(walk->arenas.size(), 1u);
    const ArenaSummary& a = walk->arenas[0];
    EXPECT_TRUE(a.main);
    EXPECT_EQ(a.in_use_chunks, 3u);
    EXPECT_EQ(a.in_use_bytes, 0x290u + 0x50 + 0x30);
    EXPECT_EQ(a.free_bytes, 0x100u);
    EXPECT_EQ(a.cached_bytes, 0x50u + 0x20);
    EXPECT_EQ(a.top_chunk, heap.top);
    EXPECT_EQ(a.top_size, kHeapSize - 0x480);
    EXPECT_EQ(a.system_mem, 0x21000u);
}

TEST(GlibcHeapWalk, AnImpossibleSizeStopsTheWalkThereAndSaysWhere) {
    MainHeap heap;
    chunk(heap.memory, heap.freed, 0x7);  // size 0
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    EXPECT_FALSE(walk->complete());
    ASSERT_FALSE(walk->notes.empty());
    EXPECT_NE(walk->notes.back().find("impossible size"), std::string::npos) << walk->notes.back();
    EXPECT_EQ(walk->chunks.size(), 2u);  // the chunks before it
}

TEST(GlibcHeapWalk, ALoopingTcacheListIsNotTakenForATcache) {
    MainHeap heap;
    // The cached chunk's next points back at itself, while counts[3] says 1: not a tcache.
    heap.memory.put(heap.cached + 16, protect(heap.cached + 16, heap.cached + 16));
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    EXPECT_EQ(walk->tcache_structs, 0u);
    EXPECT_EQ(find(*walk, heap.cached)->state, ChunkState::kInUse);
}

TEST(GlibcHeapWalk, ACorruptFastbinIsANoteAndItsChunksStayInUse) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    heap.memory.put(kMainArena + l.arena_fastbins, heap.small);  // a 0x30 chunk on the 0x20 bin
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, l);
    ASSERT_TRUE(walk.ok());
    EXPECT_EQ(find(*walk, heap.fast)->state, ChunkState::kInUse);
    bool noted = false;
    for (const std::string& n : walk->notes) noted |= n.find("fastbin 0") != std::string::npos;
    EXPECT_TRUE(noted);
}

// What a ChunkPointerScan is told: every chunk walked, once, each heap's in address order, with
// the state its next chunk's header gives (the free lists are followed after the walk).
struct ToldChunks : HeapWalkObserver {
    std::vector<std::vector<HeapChunk>> batches;
    void walked(std::span<const HeapChunk> chunks) override {
        batches.emplace_back(chunks.begin(), chunks.end());
    }
};

TEST(GlibcHeapWalk, AnObserverIsToldOfEveryChunkOnceWithTheStateItsHeaderGives) {
    MainHeap heap;
    ToldChunks told;
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236(), {}, &told);
    ASSERT_TRUE(walk.ok());
    std::map<uint64_t, ChunkState> states;
    for (const auto& batch : told.batches) {
        ASSERT_FALSE(batch.empty());
        for (size_t i = 0; i < batch.size(); ++i) {
            if (i > 0) {
                EXPECT_LT(batch[i - 1].address, batch[i].address);
            }
            EXPECT_TRUE(states.emplace(batch[i].address, batch[i].state).second)
                << "told twice: " << batch[i].address;
        }
    }
    ASSERT_EQ(states.size(), walk->chunks.size());
    for (const HeapChunk& c : walk->chunks) EXPECT_EQ(states.count(c.address), 1u);
    EXPECT_EQ(states[heap.freed], ChunkState::kFree);
    EXPECT_EQ(states[heap.cached], ChunkState::kInUse);  // its header says so: a tcache list
    EXPECT_EQ(states[heap.fast], ChunkState::kInUse);    // and a fastbin list say otherwise
    EXPECT_EQ(find(*walk, heap.cached)->state, ChunkState::kTcache);
}

TEST(GlibcHeapWalk, ThreadArenasInAlignedHeapsAreWalkedThroughTheRing) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    constexpr uint64_t kThreadHeap = 0x7e0004000000;  // 64 MiB aligned
    constexpr uint64_t kThreadHeapSize = 0x21000;
    const uint64_t arena = kThreadHeap + l.heap_info_size;
    const uint64_t first = kThreadHeap + 0x8d0;  // after malloc_state, chunk2mem 16-aligned
    heap.memory.region(kThreadHeap, kThreadHeapSize);
    heap.memory.put(kThreadHeap, arena);  // ar_ptr
    heap.memory.put(kThreadHeap + 8, 0);  // prev
    heap.memory.put(kThreadHeap + 16, kThreadHeapSize);
    heap.memory.put(kMainArena + l.arena_next, arena);
    heap.memory.put(arena + l.arena_next, kMainArena);
    heap.memory.put(arena + l.arena_top, first + 0x40);
    heap.memory.put(arena + l.arena_system_mem, kThreadHeapSize);
    chunk(heap.memory, first, 0x45);  // NON_MAIN_ARENA | PREV_INUSE
    chunk(heap.memory, first + 0x40, (kThreadHeapSize - 0x910) | 5);
    heap.snapshot.mappings.push_back(mapping(kThreadHeap, kThreadHeapSize, ""));
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, l);
    ASSERT_TRUE(walk.ok());
    EXPECT_TRUE(walk->complete()) << (walk->notes.empty() ? "" : walk->notes[0]);
    ASSERT_EQ(walk->arenas.size(), 2u);
    EXPECT_FALSE(walk->arenas[1].main);
    EXPECT_EQ(walk->arenas[1].in_use_chunks, 1u);
    EXPECT_EQ(walk->arenas[1].in_use_bytes, 0x40u);
    EXPECT_EQ(find(*walk, first)->arena, 1u);
}

TEST(GlibcHeapWalk, ABrokenArenaRingIsANoteNotALoop) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    heap.memory.put(kMainArena + l.arena_next, kLibcData + 0x10);  // not an arena, next = 0
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, l);
    ASSERT_TRUE(walk.ok());
    EXPECT_FALSE(walk->notes.empty());
}

// A corrupted heap (the dump is untrusted input): every walk ends, and says where and why.
bool noted(const HeapWalk& walk, const std::string& part) {
    for (const std::string& n : walk.notes)
        if (n.find(part) != std::string::npos) return true;
    return false;
}

std::string notes_of(const HeapWalk& walk) {
    std::string all;
    for (const std::string& n : walk.notes) all += n + "\n";
    return all;
}

TEST(GlibcHeapCorrupted, AnAbsurdChunkSizeStopsTheWalkWithANote) {
    MainHeap heap;
    chunk(heap.memory, heap.used, 0x7ffffffffff0 | 1);  // runs far past the top chunk
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    EXPECT_FALSE(walk->complete());
    EXPECT_TRUE(noted(*walk, fmt::format("chunk at {:#x} has an impossible size", heap.used)))
        << notes_of(*walk);
    EXPECT_EQ(walk->chunks.size(), 1u);  // the tcache struct before it
}

TEST(GlibcHeapCorrupted, ALoopOfHeapsOfAnArenaEnds) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    constexpr uint64_t kOld = 0x7e0004000000;  // the arena's first heap (holds malloc_state)
    constexpr uint64_t kNew = 0x7e0008000000;  // its current heap (holds the top chunk)
    constexpr uint64_t kSize = 0x21000;
    const uint64_t arena = kOld + l.heap_info_size;
    heap.memory.region(kOld, kSize);
    heap.memory.region(kNew, kSize);
    heap.memory.put(kMainArena + l.arena_next, arena);
    heap.memory.put(arena + l.arena_next, kMainArena);
    heap.memory.put(arena + l.arena_top, kNew + 0x70);
    // Each heap's prev is the other one.
    for (auto [at, prev] : {std::pair{kOld, kNew}, std::pair{kNew, kOld}}) {
        heap.memory.put(at, arena);
        heap.memory.put(at + 8, prev);
        heap.memory.put(at + 16, kSize);
    }
    chunk(heap.memory, kOld + 0x8d0, 0x45);
    chunk(heap.memory, kOld + 0x910, 0x15);  // fencepost
    chunk(heap.memory, kNew + 0x30, 0x45);
    chunk(heap.memory, kNew + 0x70, (kSize - 0x70) | 5);
    heap.snapshot.mappings.push_back(mapping(kOld, kSize, ""));
    heap.snapshot.mappings.push_back(mapping(kNew, kSize, ""));
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, l);
    ASSERT_TRUE(walk.ok());
    EXPECT_TRUE(noted(*walk, "heap list loops")) << notes_of(*walk);
    ASSERT_EQ(walk->arenas.size(), 2u);
    EXPECT_EQ(walk->arenas[1].segments.size(), 2u);  // each heap once
}

TEST(GlibcHeapCorrupted, AnArenaRingThatNeverComesBackEnds) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    constexpr uint64_t kOther = 0x7e0004000000;
    const uint64_t arena = kOther + l.heap_info_size;
    heap.memory.region(kOther, 0x1000);
    heap.memory.put(kMainArena + l.arena_next, arena);
    heap.memory.put(arena + l.arena_next, arena);  // points at itself, not back to main_arena
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, l);
    ASSERT_TRUE(walk.ok());
    EXPECT_TRUE(noted(*walk, "the ring of arenas is broken")) << notes_of(*walk);
    EXPECT_EQ(walk->arenas.size(), 2u);
}

TEST(GlibcHeapCorrupted, TheChunkLimitEndsAWalkWithANote) {
    MainHeap heap;
    HeapWalkLimits limits;
    limits.max_chunks = 3;
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236(), limits);
    ASSERT_TRUE(walk.ok());
    EXPECT_EQ(walk->chunks.size(), 3u);
    EXPECT_TRUE(noted(*walk, "chunk limit (3) reached")) << notes_of(*walk);
}

TEST(GlibcHeapCorrupted, AFastbinThatLoopsIsANote) {
    MainHeap heap;
    heap.memory.put(heap.fast + 16, protect(heap.fast + 16, heap.fast));  // fd: itself
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    EXPECT_TRUE(noted(*walk, "fastbin 0")) << notes_of(*walk);
    EXPECT_EQ(find(*walk, heap.fast)->state, ChunkState::kInUse);
}

TEST(GlibcHeapCorrupted, AnAbsurdTcacheCountWithALoopingListIsNoTcache) {
    MainHeap heap;
    heap.memory.put16(heap.tcache + 16 + 2 * 3, 65535);
    heap.memory.put(heap.cached + 16, protect(heap.cached + 16, heap.cached + 16));
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    EXPECT_EQ(walk->tcache_structs, 0u);
    EXPECT_TRUE(walk->tcache_struct_chunks.empty());
    EXPECT_EQ(find(*walk, heap.cached)->state, ChunkState::kInUse);
}

TEST(GlibcMmappedChunks, RunsOfChunksAtTheStartOfAnonymousMappings) {
    MainHeap heap;
    constexpr uint64_t kBig = 0x7e1000000000;  // two merged mmapped chunks, then other memory
    heap.memory.region(kBig, 0x5000);
    chunk(heap.memory, kBig, 0x2000 | 2);
    chunk(heap.memory, kBig + 0x2000, 0x1000 | 2);
    heap.snapshot.mappings.push_back(mapping(kBig, 0x5000, ""));
    constexpr uint64_t kAbsurd = 0x7e2000000000;  // a header claiming more than its mapping
    heap.memory.region(kAbsurd, 0x1000);
    chunk(heap.memory, kAbsurd, 0x7fff0000 | 2);
    heap.snapshot.mappings.push_back(mapping(kAbsurd, 0x1000, ""));
    auto walk = walk_glibc_heap(heap.with_memory(), kMainArena, glibc_236());
    ASSERT_TRUE(walk.ok());
    const MmappedChunks found = find_mmapped_chunks(heap.snapshot, *walk);
    ASSERT_EQ(found.chunks.size(), 2u);
    EXPECT_EQ(found.chunks[0].address, kBig);
    EXPECT_EQ(found.chunks[0].size, 0x2000u);
    EXPECT_EQ(found.chunks[1].address, kBig + 0x2000);
    EXPECT_EQ(found.chunks[1].arena, kMmappedChunkArena);
    EXPECT_EQ(found.bytes, 0x3000u);
    EXPECT_FALSE(found.truncated);
    EXPECT_EQ(find_mmapped_chunks(heap.snapshot, *walk, 1).chunks.size(), 1u);
    EXPECT_TRUE(find_mmapped_chunks(heap.snapshot, *walk, 1).truncated);
}

TEST(GlibcMallocLocator, WithoutSymbolsMainArenaIsTheSelfLinkedStateInLibcData) {
    MainHeap heap;
    Module libc;
    libc.path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    libc.base = kLibcData;
    libc.end = kLibcData + 0x1000;
    auto found = find_main_arena_in_data(heap.with_memory(), libc, glibc_236());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, kMainArena);
}

TEST(GlibcMallocLocator, NoSelfLinkedStateNoArena) {
    MainHeap heap;
    heap.memory.put(kMainArena + glibc_236().arena_next, kMainArena + 8);  // not a ring
    Module libc;
    libc.base = kLibcData;
    libc.end = kLibcData + 0x1000;
    EXPECT_FALSE(find_main_arena_in_data(heap.with_memory(), libc, glibc_236()).has_value());
}

TEST(GlibcMallocLocator, ARingThatNeverClosesIsNoArenaAndTheScanEnds) {
    MainHeap heap;
    const MallocLayout l = glibc_236();
    // main_arena's next starts a chain of 1100 arenas in heap-aligned places, never coming back.
    uint64_t previous = kMainArena;
    for (uint64_t k = 0; k < 1100; ++k) {
        const uint64_t heap_start = 0x7e0000000000 + k * l.heap_max_size;
        heap.memory.region(heap_start, 0x1000);
        heap.memory.put(previous + l.arena_next, heap_start + l.heap_info_size);
        previous = heap_start + l.heap_info_size;
    }
    Module libc;
    libc.base = kLibcData;
    libc.end = kLibcData + 0x1000;
    EXPECT_FALSE(find_main_arena_in_data(heap.with_memory(), libc, l).has_value());
}

TEST(GlibcHeapWalk, MainArenaOutsideTheDumpIsAnError) {
    MainHeap heap;
    auto walk = walk_glibc_heap(heap.with_memory(), 0x1000, glibc_236());
    EXPECT_FALSE(walk.ok());
}

// A libc of a release the layout table does not know (2.42 added tcache bins) is refused by
// name before anything is read with a layout, while the same process with a known release gets
// as far as looking for main_arena. The release comes from the banner in the dump's copy of
// libc's read-only data (the module's file is not on this machine). Returns the locator's error,
// "" when it located main_arena.
std::string locate_in_libc_of_release(const std::string& release) {
    constexpr uint64_t kLibcText = 0x7f0000000000;  // r-- mapping of libc holding the banner
    const std::string banner =
        "GNU C Library (Debian GLIBC " + release + "-1) stable release version " + release + ".\n";
    FakeMemory memory;
    memory.region(kLibcText, 0x1000);
    memory.region(kLibcData, 0x1000);
    for (size_t i = 0; i < banner.size(); i += 8) {
        uint64_t word = 0;
        std::memcpy(&word, banner.data() + i, std::min<size_t>(8, banner.size() - i));
        memory.put(kLibcText + 0x100 + i, word);
    }
    Snapshot snapshot;
    Mapping text = mapping(kLibcText, 0x1000, "/nonexistent/lib/libc.so.6");
    text.write = false;
    snapshot.mappings = {text, mapping(kLibcData, 0x1000, "/nonexistent/lib/libc.so.6")};
    Module libc;
    libc.path = "/nonexistent/lib/libc.so.6";
    libc.base = kLibcText;
    libc.end = kLibcData + 0x1000;
    snapshot.modules = {libc};
    snapshot.memory = memory.source();
    auto session = analysis::DwflSession::create(snapshot, analysis::SymbolOptions{});
    if (!session.ok()) return "no session: " + session.error().message;
    auto located = locate_glibc_malloc(**session);
    return located.ok() ? "" : located.error().message;
}

TEST(GlibcMallocLocator, AReleaseWithAnUnknownLayoutIsRefusedByName) {
    EXPECT_EQ(locate_in_libc_of_release("2.42"),
              "glibc 2.42's malloc layout is not known (known: 2.26 to 2.41)");
    EXPECT_EQ(locate_in_libc_of_release("2.25"),
              "glibc 2.25's malloc layout is not known (known: 2.26 to 2.41)");
    // A known release is not refused for its version: it fails later, for want of main_arena.
    const std::string known = locate_in_libc_of_release("2.41");
    EXPECT_NE(known.find("main_arena not found"), std::string::npos) << known;
}

}  // namespace
}  // namespace dumpscope
