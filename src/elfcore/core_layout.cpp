#include "elfcore/core_layout.h"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/align.h"

namespace dumpscope::elfcore {

namespace {

struct Interval {
    uint64_t start = 0;
    uint64_t end = 0;
    uint32_t flags = 0;
};

// content.memory widened to whole pages (of `page` bytes: 1 keeps it exact), sorted, merged.
Result<std::vector<Interval>> dumped_pages(const DumpContent& content, uint64_t page) {
    std::vector<Interval> pages;
    for (const MemoryRange& r : content.memory) {
        if (r.size == 0) continue;
        const uint64_t end = r.start + r.size;
        const uint64_t rounded_end = align_up(end, page);
        if (end < r.start || rounded_end < end) {
            return Error{fmt::format("memory range {:#x} + {:#x} wraps around the address space",
                                     r.start, r.size)};
        }
        pages.push_back({r.start & ~(page - 1), rounded_end, 0});
    }
    std::sort(pages.begin(), pages.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });
    std::vector<Interval> merged;
    for (const Interval& p : pages) {
        if (!merged.empty() && p.start <= merged.back().end) {
            merged.back().end = std::max(merged.back().end, p.end);
        } else {
            merged.push_back(p);
        }
    }
    return merged;
}

uint32_t segment_flags(const Mapping& m) {
    return (m.read ? PF_R : 0) | (m.write ? PF_W : 0) | (m.exec ? PF_X : 0);
}

// The mappings as sorted, non-overlapping intervals (a later overlapping one is clipped).
std::vector<Interval> mapped_intervals(const Snapshot& snapshot) {
    std::vector<Interval> maps;
    for (const Mapping& m : snapshot.mappings) {
        if (m.end > m.start) maps.push_back({m.start, m.end, segment_flags(m)});
    }
    std::stable_sort(maps.begin(), maps.end(),
                     [](const Interval& a, const Interval& b) { return a.start < b.start; });
    std::vector<Interval> out;
    for (Interval m : maps) {
        if (!out.empty()) m.start = std::max(m.start, out.back().end);
        if (m.start < m.end) out.push_back(m);
    }
    return out;
}

// Parts of `dumped` that no mapping covers: memory the plan added outside the mappings.
std::vector<Interval> unmapped_parts(const std::vector<Interval>& dumped,
                                     const std::vector<Interval>& maps) {
    std::vector<Interval> out;
    size_t j = 0;
    for (const Interval& d : dumped) {
        uint64_t pos = d.start;
        while (j < maps.size() && maps[j].end <= pos) ++j;
        for (size_t k = j; pos < d.end; ++k) {
            const uint64_t next_map = k < maps.size() ? maps[k].start : d.end;
            if (pos < next_map) out.push_back({pos, std::min(next_map, d.end), PF_R});
            if (k >= maps.size()) break;
            pos = std::max(pos, maps[k].end);
        }
    }
    return out;
}

}  // namespace

Result<std::vector<MemoryRange>> core_memory_ranges(const DumpContent& content, uint64_t page) {
    auto dumped = dumped_pages(content, content.whole_pages ? page : 1);
    if (!dumped.ok()) return dumped.error();
    std::vector<MemoryRange> ranges;
    ranges.reserve(dumped->size());
    for (const Interval& p : *dumped) ranges.push_back({p.start, p.end - p.start});
    return ranges;
}

Result<std::vector<LoadSegment>> plan_load_segments(const Snapshot& snapshot,
                                                    const DumpContent& content, uint64_t page) {
    auto dumped = dumped_pages(content, content.whole_pages ? page : 1);
    if (!dumped.ok()) return dumped.error();
    std::vector<Interval> regions = mapped_intervals(snapshot);
    const std::vector<Interval> extra = unmapped_parts(*dumped, regions);
    regions.insert(regions.end(), extra.begin(), extra.end());
    std::sort(regions.begin(), regions.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });

    std::vector<LoadSegment> segments;
    const std::vector<Interval>& covered = *dumped;
    size_t j = 0;
    for (const Interval& region : regions) {
        uint64_t pos = region.start;
        while (j < covered.size() && covered[j].end <= pos) ++j;
        while (pos < region.end) {
            const bool inside = j < covered.size() && covered[j].start <= pos;
            uint64_t end = region.end;
            if (inside) {
                end = std::min(end, covered[j].end);
            } else if (j < covered.size()) {
                end = std::min(end, covered[j].start);
            }
            segments.push_back({pos, end - pos, inside, region.flags, 0});
            pos = end;
            if (inside && pos == covered[j].end) ++j;
        }
    }
    return segments;
}

Result<uint64_t> assign_file_offsets(std::vector<LoadSegment>& segments, uint64_t data_start,
                                     uint64_t page) {
    uint64_t pos = data_start;
    for (LoadSegment& s : segments) {
        if (!s.has_bytes) {
            s.offset = pos;
            continue;
        }
        const uint64_t aligned = align_up(pos, page) + (s.vaddr & (page - 1));
        if (aligned < pos || aligned + s.memsz < aligned) {
            return Error{"the ELF core would be larger than 2^64 bytes"};
        }
        s.offset = aligned;
        pos = aligned + s.memsz;
    }
    return pos;
}

}  // namespace dumpscope::elfcore
