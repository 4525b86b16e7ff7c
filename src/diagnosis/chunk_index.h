// Which chunk holds an address: the question a reachability pass asks of every word it scans. A
// binary search over a million chunk records is twenty dependent loads, most of them cache misses
// once the records outgrow the cache; this index answers in one or two. The chunks' address span
// is cut where they leave a gap (the brk heap, each 64 MiB thread heap, each mmapped chunk), and
// each part has a table with, per granule of its span, the first chunk that reaches into that
// granule: a lookup is a range check, a table load and a search among the few chunks of one
// granule. The granule grows with the span so that the tables stay within a bound.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "diagnosis/glibc_heap_walk.h"

namespace dumpscope {

class ChunkIndex {
public:
    static constexpr uint32_t kNone = UINT32_MAX;
    // A gap between chunks of at least this many bytes starts a new part.
    static constexpr uint64_t kGap = 1u << 20;
    // The tables hold at most this many entries (4 bytes each) in all.
    static constexpr uint64_t kMostEntries = 8u << 20;

    ChunkIndex() = default;
    // `chunks` sorted by address, not overlapping, fewer than kNone; kept by reference.
    explicit ChunkIndex(std::span<const HeapChunk> chunks);

    // The index of the chunk whose user memory ([address + 16, address + size)) holds `word`.
    uint32_t holding(uint64_t word) const {
        if (word - lowest_ >= span_) return kNone;  // most words: not into the chunks at all
        return holding_slow(word);
    }
    // The index of the chunk whose header is at `address`.
    uint32_t at(uint64_t address) const;
    // holding() of each of `words`, found all at once: the words are sorted (by radix, in place
    // of a look-up each, whose cache misses cost more than the sort when there are many) and
    // walked along with the chunks.
    std::vector<uint32_t> holding_each(std::span<const uint64_t> words) const;

    uint64_t granule() const { return uint64_t{1} << shift_; }

private:
    struct Part {
        uint64_t start = 0, end = 0;  // the first chunk's header, the last chunk's end
        uint32_t first_chunk = 0;
        uint64_t first_entry = 0;  // into entries_
    };

    uint32_t holding_slow(uint64_t word) const;
    // The index after the last chunk of parts_[part].
    uint32_t part_end(size_t part) const;
    // [first, last) of the chunks that may hold `address` (empty when none can).
    std::pair<uint32_t, uint32_t> candidates(uint64_t address) const;

    std::span<const HeapChunk> chunks_;
    std::vector<Part> parts_;
    // Per part, per granule from part.start: the first chunk (index into chunks_) ending past
    // the granule's start; one entry more per part, its chunks' end.
    std::vector<uint32_t> entries_;
    uint64_t lowest_ = 1, span_ = 0;
    uint32_t shift_ = 10;
};

}  // namespace dumpscope
