// When a group of chunks is a leak suspect: enough unreachable chunks, enough growth between two
// dumps, or a group holding most of a heap that holds most of the resident memory; and the
// biggest group of a heap that does none of these is not one.
#include <gtest/gtest.h>

#include "diagnosis/leak_rules.h"

namespace dumpscope::diagnosis {
namespace {

constexpr uint64_t kMiB = 1 << 20;

ChunkGroup group(uint64_t chunk_size, std::string type, uint64_t count) {
    return ChunkGroup{chunk_size, std::move(type), count, count * chunk_size, {}};
}

TEST(LeakRules, UnreachableGroupsNeedManyChunksAndBytes) {
    const std::vector<uint64_t> count = {31, 32, 500, 2000};
    const std::vector<uint64_t> bytes = {1'000'000, 16384, 100, 672000};
    EXPECT_EQ(unreachable_suspects(count, bytes), (std::vector<size_t>{3, 1}));
    EXPECT_TRUE(unreachable_suspects(std::vector<uint64_t>{1}, std::vector<uint64_t>{1 << 30})
                    .empty());  // one stray block is not a pattern
}

TEST(LeakRules, GrowthIsByGroupMostGrownFirst) {
    const std::vector<ChunkGroup> before = {group(1008, "", 3000), group(432, "Entry", 3000),
                                            group(80, "", 200), group(64, "", 50)};
    const std::vector<ChunkGroup> after = {group(1008, "", 3000), group(432, "Entry", 9000),
                                           group(80, "", 210), group(432, "", 5)};
    const auto grown = group_growth(before, after);
    ASSERT_EQ(grown.size(), 3u);  // 1008 stayed, 64 went away
    EXPECT_EQ(grown[0].chunk_size, 432u);
    EXPECT_EQ(grown[0].type, "Entry");
    EXPECT_EQ(grown[0].count_before, 3000u);
    EXPECT_EQ(grown[0].count_after, 9000u);
    EXPECT_TRUE(growth_is_suspect(grown[0]));
    EXPECT_EQ(grown[1].chunk_size, 432u);  // a new group of another type: +2160 bytes
    EXPECT_EQ(grown[1].type, "");
    EXPECT_FALSE(growth_is_suspect(grown[1]));
    EXPECT_EQ(grown[2].chunk_size, 80u);  // ten more records: +800 bytes
    EXPECT_FALSE(growth_is_suspect(grown[2]));
}

TEST(LeakRules, GrowthSmallNextToTheGroupIsNotASuspect) {
    GroupGrowth g;
    g.chunk_size = 1008;
    g.count_before = 100'000;  // ~96 MiB
    g.count_after = 101'000;   // +1 MiB: 1%
    g.bytes_before = g.count_before * 1008;
    g.bytes_after = g.count_after * 1008;
    EXPECT_FALSE(growth_is_suspect(g));
    g.count_after = 120'000;
    g.bytes_after = g.count_after * 1008;
    EXPECT_TRUE(growth_is_suspect(g));
}

TEST(LeakRules, ADominantGroupOfAHeapThatIsMostOfTheProcess) {
    HeapStatistics stats;
    stats.groups = {group(80, "OrderCache::Entry", 2'700'000), group(1008, "", 10'000)};
    stats.in_use_bytes = stats.groups[0].bytes + stats.groups[1].bytes;  // ~216 + ~10 MiB
    EXPECT_FALSE(dominant_group(stats, 240 * kMiB).has_value());         // under 256 MiB in use
    stats.groups[0] = group(80, "OrderCache::Entry", 4'000'000);
    stats.in_use_bytes = stats.groups[0].bytes + stats.groups[1].bytes;  // ~315 MiB
    EXPECT_EQ(dominant_group(stats, 400 * kMiB), std::optional<size_t>(0));
    EXPECT_FALSE(dominant_group(stats, 1024 * kMiB).has_value());   // the heap is a third of RSS
    EXPECT_FALSE(dominant_group(stats, std::nullopt).has_value());  // RSS unknown: no evidence
    stats.groups[1] = group(1008, "", 400'000);  // two groups of similar size: none dominates
    stats.in_use_bytes = stats.groups[0].bytes + stats.groups[1].bytes;
    EXPECT_FALSE(dominant_group(stats, 750 * kMiB).has_value());
}

}  // namespace
}  // namespace dumpscope::diagnosis
