// The chunk index answers as a plain search of the sorted chunks does: for every address in and
// around the chunks (headers, user memory, ends, gaps small and large, before and after all),
// which chunk's user memory holds it and which chunk's header is at it, one address at a time and
// all at once. Layouts: a dense heap, heaps a gap apart, chunks of gigabytes (the granule grows),
// one chunk, none.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "diagnosis/chunk_index.h"
#include "diagnosis/glibc_mmapped_chunks.h"

namespace dumpscope {
namespace {

uint32_t holding_by_search(const std::vector<HeapChunk>& chunks, uint64_t word) {
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (word >= chunks[i].user_address() && word < chunks[i].address + chunks[i].size) {
            return static_cast<uint32_t>(i);
        }
    }
    return ChunkIndex::kNone;
}

uint32_t at_by_search(const std::vector<HeapChunk>& chunks, uint64_t address) {
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (chunks[i].address == address) return static_cast<uint32_t>(i);
    }
    return ChunkIndex::kNone;
}

// Chunks from `start`: sizes drawn from `sizes`, after each a gap drawn from `gaps`.
std::vector<HeapChunk> layout(uint64_t start, size_t count, std::vector<uint64_t> sizes,
                              std::vector<uint64_t> gaps, uint32_t seed) {
    std::mt19937_64 random(seed);
    std::vector<HeapChunk> chunks;
    uint64_t p = start;
    for (size_t i = 0; i < count; ++i) {
        const uint64_t size = sizes[random() % sizes.size()];
        chunks.push_back(HeapChunk{p, size, ChunkState::kInUse, 0});
        p += size + gaps[random() % gaps.size()];
    }
    return chunks;
}

// Every address that matters: each chunk's header, +8, user memory start, middle, last byte,
// end, and a few past the end; plus the edges of the whole span and random ones across it.
void check_against_search(const std::vector<HeapChunk>& chunks, uint32_t seed) {
    const ChunkIndex index(chunks);
    std::vector<uint64_t> probes = {0, 1, UINT64_MAX, UINT64_MAX - 7};
    for (const HeapChunk& c : chunks) {
        for (uint64_t d : {uint64_t{0}, uint64_t{8}, uint64_t{16}, uint64_t{24}, c.size / 2,
                           c.size - 1, c.size, c.size + 8, c.size + 16}) {
            probes.push_back(c.address + d);
        }
        probes.push_back(c.address - 1);
    }
    if (!chunks.empty()) {
        std::mt19937_64 random(seed);
        const uint64_t low = chunks.front().address;
        const uint64_t high = chunks.back().address + chunks.back().size;
        for (int i = 0; i < 2000; ++i) probes.push_back(low + random() % (high - low + 64));
    }
    for (uint64_t p : probes) {
        ASSERT_EQ(index.holding(p), holding_by_search(chunks, p)) << std::hex << "holding " << p;
        ASSERT_EQ(index.at(p), at_by_search(chunks, p)) << std::hex << "at " << p;
    }
    // All at once (sorted by radix, walked along the chunks), in any order, repeats included.
    std::vector<uint64_t> shuffled = probes;
    shuffled.insert(shuffled.end(), probes.begin(), probes.end());
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed));
    const std::vector<uint32_t> each = index.holding_each(shuffled);
    ASSERT_EQ(each.size(), shuffled.size());
    for (size_t i = 0; i < shuffled.size(); ++i) {
        ASSERT_EQ(each[i], holding_by_search(chunks, shuffled[i])) << std::hex << shuffled[i];
    }
}

TEST(ChunkIndex, DenseHeapOfSmallChunks) {
    check_against_search(layout(0x555555560000, 3000, {32, 48, 64, 96, 112, 1040, 4112}, {0}, 1),
                         1);
}

TEST(ChunkIndex, FreeChunksLeftOutMakeSmallGaps) {
    check_against_search(
        layout(0x555555560000, 3000, {32, 48, 64, 96, 2064}, {0, 0, 0, 32, 512, 8192}, 2), 2);
}

TEST(ChunkIndex, HeapsAndMappedChunksFarApart) {
    std::vector<HeapChunk> chunks = layout(0x555555560000, 500, {32, 64, 128, 4096}, {0, 48}, 3);
    auto heap2 = layout(0x7f0000000000, 500, {32, 80, 160}, {0, 16}, 4);
    auto heap3 = layout(0x7f0004000000, 500, {32, 80, 160}, {0, 16}, 5);
    chunks.insert(chunks.end(), heap2.begin(), heap2.end());
    chunks.insert(chunks.end(), heap3.begin(), heap3.end());
    // mmapped chunks, each its own mapping
    for (uint64_t a : {0x7f1000000000ull, 0x7f1000200000ull, 0x7f2000000000ull}) {
        chunks.push_back(HeapChunk{a, 0x21000, ChunkState::kInUse, kMmappedChunkArena});
    }
    check_against_search(chunks, 6);
}

TEST(ChunkIndex, ChunksOfGigabytesMakeTheGranuleGrow) {
    // 40 chunks of 1-4 GiB, a gap under kGap apart: one part of about 100 GiB
    const auto chunks =
        layout(0x100000000000, 40, {1ull << 30, 3ull << 30, 4ull << 30}, {0, 4096, 512 << 10}, 7);
    const ChunkIndex index(chunks);
    EXPECT_GT(index.granule(), 1024u);
    check_against_search(chunks, 7);
}

TEST(ChunkIndex, OneChunkAndNone) {
    check_against_search({HeapChunk{0x1000, 32, ChunkState::kInUse, 0}}, 8);
    check_against_search({}, 9);
    const ChunkIndex empty;
    EXPECT_EQ(empty.holding(0x1000), ChunkIndex::kNone);
    EXPECT_EQ(empty.at(0), ChunkIndex::kNone);
}

}  // namespace
}  // namespace dumpscope
