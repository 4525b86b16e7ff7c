#include "diagnosis/chunk_index.h"

#include <algorithm>
#include <utility>

namespace dumpscope {

namespace {

uint64_t end_of(const HeapChunk& c) { return c.address + c.size; }

}  // namespace

ChunkIndex::ChunkIndex(std::span<const HeapChunk> chunks) : chunks_(chunks) {
    if (chunks.empty() || chunks.size() >= kNone) return;
    // The parts: runs of chunks without a gap of kGap or more between them.
    uint64_t highest = 0;
    for (uint32_t i = 0; i < chunks.size(); ++i) {
        const HeapChunk& c = chunks[i];
        if (parts_.empty() ||
            (c.address >= parts_.back().end && c.address - parts_.back().end >= kGap)) {
            parts_.push_back(Part{c.address, c.address, i, 0});
        }
        parts_.back().end = std::max(parts_.back().end, end_of(c));
        highest = std::max(highest, end_of(c));
    }
    uint64_t span_total = 0;
    for (const Part& part : parts_) span_total += part.end - part.start;
    while (shift_ < 63 && (span_total >> shift_) + parts_.size() > kMostEntries) ++shift_;
    // Each part's table, in one sweep over its chunks.
    for (size_t p = 0; p < parts_.size(); ++p) {
        Part& part = parts_[p];
        part.first_entry = entries_.size();
        const uint32_t last = part_end(p);
        const uint64_t granules = ((part.end - part.start) >> shift_) + 1;
        uint32_t i = part.first_chunk;
        for (uint64_t g = 0; g < granules; ++g) {
            const uint64_t from = part.start + (g << shift_);
            while (i < last && end_of(chunks[i]) <= from) ++i;
            entries_.push_back(i);
        }
        entries_.push_back(last);
    }
    lowest_ = chunks.front().address;
    span_ = highest - lowest_;
}

uint32_t ChunkIndex::part_end(size_t part) const {
    return part + 1 < parts_.size() ? parts_[part + 1].first_chunk
                                    : static_cast<uint32_t>(chunks_.size());
}

std::pair<uint32_t, uint32_t> ChunkIndex::candidates(uint64_t address) const {
    auto part = std::upper_bound(parts_.begin(), parts_.end(), address,
                                 [](uint64_t a, const Part& p) { return a < p.start; });
    if (part == parts_.begin()) return {0, 0};
    --part;
    if (address >= part->end) return {0, 0};
    const uint64_t g = (address - part->start) >> shift_;
    // A chunk holding `address` reaches into granule g and starts before granule g + 1 does: it
    // is at most one past the first chunk reaching into granule g + 1.
    const uint32_t lo = entries_[part->first_entry + g];
    const uint32_t end = part_end(static_cast<size_t>(part - parts_.begin()));
    return {lo, std::max(lo, std::min<uint32_t>(entries_[part->first_entry + g + 1] + 1, end))};
}

uint32_t ChunkIndex::holding_slow(uint64_t word) const {
    const auto [lo, hi] = candidates(word);
    auto it = std::upper_bound(chunks_.begin() + lo, chunks_.begin() + hi, word,
                               [](uint64_t w, const HeapChunk& c) { return w < c.address; });
    if (it == chunks_.begin() + lo) return kNone;
    --it;
    if (word < it->user_address() || word >= end_of(*it)) return kNone;
    return static_cast<uint32_t>(it - chunks_.begin());
}

uint32_t ChunkIndex::at(uint64_t address) const {
    if (address - lowest_ >= span_) return kNone;
    const auto [lo, hi] = candidates(address);
    auto it = std::lower_bound(chunks_.begin() + lo, chunks_.begin() + hi, address,
                               [](const HeapChunk& c, uint64_t a) { return c.address < a; });
    if (it == chunks_.begin() + hi || it->address != address) return kNone;
    return static_cast<uint32_t>(it - chunks_.begin());
}

std::vector<uint32_t> ChunkIndex::holding_each(std::span<const uint64_t> words) const {
    std::vector<uint32_t> out(words.size(), kNone);
    struct Keyed {
        uint64_t key;  // the word less lowest_
        uint64_t index;
    };
    std::vector<Keyed> keyed;
    for (size_t k = 0; k < words.size(); ++k) {
        if (words[k] - lowest_ < span_) keyed.push_back(Keyed{words[k] - lowest_, k});
    }
    // Least significant digit first, 16 bits at a time, up to the highest bit of the span.
    std::vector<Keyed> spare(keyed.size());
    std::vector<size_t> count(size_t{1} << 16);
    for (unsigned shift = 0; shift < 64 && (span_ >> shift) != 0; shift += 16) {
        std::fill(count.begin(), count.end(), 0);
        for (const Keyed& k : keyed) ++count[(k.key >> shift) & 0xffff];
        size_t total = 0;
        for (size_t& c : count) total += std::exchange(c, total);
        for (const Keyed& k : keyed) spare[count[(k.key >> shift) & 0xffff]++] = k;
        keyed.swap(spare);
    }
    // Along the chunks: the last one starting at or before each word.
    size_t c = 0;
    for (const Keyed& k : keyed) {
        const uint64_t word = k.key + lowest_;
        while (c + 1 < chunks_.size() && chunks_[c + 1].address <= word) ++c;
        const HeapChunk& chunk = chunks_[c];
        if (word >= chunk.user_address() && word < end_of(chunk)) {
            out[k.index] = static_cast<uint32_t>(c);
        }
    }
    return out;
}

}  // namespace dumpscope
