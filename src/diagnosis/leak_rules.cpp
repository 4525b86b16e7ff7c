#include "diagnosis/leak_rules.h"

#include <algorithm>
#include <map>

namespace dumpscope::diagnosis {

std::vector<size_t> unreachable_suspects(std::span<const uint64_t> unreachable_count,
                                         std::span<const uint64_t> unreachable_bytes,
                                         const LeakThresholds& t) {
    std::vector<size_t> out;
    for (size_t g = 0; g < unreachable_count.size() && g < unreachable_bytes.size(); ++g) {
        if (unreachable_count[g] >= t.unreachable_min_chunks &&
            unreachable_bytes[g] >= t.unreachable_min_bytes)
            out.push_back(g);
    }
    std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) {
        return unreachable_bytes[a] > unreachable_bytes[b];
    });
    return out;
}

std::vector<GroupGrowth> group_growth(const std::vector<ChunkGroup>& before,
                                      const std::vector<ChunkGroup>& after) {
    std::map<std::pair<uint64_t, std::string>, GroupGrowth> by_key;
    for (const ChunkGroup& g : before) {
        GroupGrowth& growth = by_key[{g.chunk_size, g.type}];
        growth.chunk_size = g.chunk_size;
        growth.type = g.type;
        growth.count_before += g.count;
        growth.bytes_before += g.bytes;
    }
    for (const ChunkGroup& g : after) {
        GroupGrowth& growth = by_key[{g.chunk_size, g.type}];
        growth.chunk_size = g.chunk_size;
        growth.type = g.type;
        growth.count_after += g.count;
        growth.bytes_after += g.bytes;
    }
    std::vector<GroupGrowth> out;
    for (auto& [key, growth] : by_key) {
        if (growth.grown_bytes() > 0) out.push_back(std::move(growth));
    }
    std::stable_sort(out.begin(), out.end(), [](const GroupGrowth& a, const GroupGrowth& b) {
        return a.grown_bytes() > b.grown_bytes();
    });
    return out;
}

bool growth_is_suspect(const GroupGrowth& growth, const LeakThresholds& t) {
    if (growth.grown_count() < static_cast<int64_t>(t.growth_min_chunks)) return false;
    if (growth.grown_bytes() < static_cast<int64_t>(t.growth_min_bytes)) return false;
    return static_cast<double>(growth.grown_bytes()) >=
           t.growth_min_share * static_cast<double>(growth.bytes_before);
}

std::optional<size_t> dominant_group(const HeapStatistics& stats,
                                     std::optional<uint64_t> resident_bytes,
                                     const LeakThresholds& t) {
    if (stats.groups.empty() || !resident_bytes || *resident_bytes == 0) return std::nullopt;
    const auto heap = static_cast<double>(stats.in_use_bytes);
    if (stats.in_use_bytes < t.dominant_min_heap_bytes) return std::nullopt;
    if (heap < t.dominant_heap_share_of_resident * static_cast<double>(*resident_bytes))
        return std::nullopt;
    // groups are biggest first
    if (static_cast<double>(stats.groups[0].bytes) < t.dominant_group_share_of_heap * heap)
        return std::nullopt;
    return 0;
}

}  // namespace dumpscope::diagnosis
