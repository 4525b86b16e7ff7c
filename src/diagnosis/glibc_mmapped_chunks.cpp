#include "diagnosis/glibc_mmapped_chunks.h"

#include <array>
#include <cstring>

namespace dumpscope {

namespace {

constexpr uint64_t kIsMmapped = 2;
constexpr uint64_t kPage = 4096;

bool holds_heap(const Mapping& m, const HeapWalk& walk) {
    for (const ArenaSummary& a : walk.arenas) {
        if (a.address >= m.start && a.address < m.end) return true;
        if (a.top_chunk >= m.start && a.top_chunk < m.end) return true;
        for (const HeapSegment& s : a.segments) {
            if (s.start < m.end && s.end > m.start) return true;
        }
    }
    return false;
}

bool holds_stack(const Mapping& m, const Snapshot& snapshot) {
    for (const Thread& t : snapshot.threads) {
        if (t.regs.sp() >= m.start && t.regs.sp() < m.end) return true;
    }
    return false;
}

// prev_size and size of the chunk header at `at`, or false when the dump does not hold them.
bool header(const MemorySource& memory, uint64_t at, uint64_t& prev_size, uint64_t& size_field) {
    std::array<uint8_t, 16> bytes{};
    auto n = memory.read(at, bytes);
    if (!n.ok() || *n != bytes.size()) return false;
    std::memcpy(&prev_size, bytes.data(), 8);
    std::memcpy(&size_field, bytes.data() + 8, 8);
    return true;
}

}  // namespace

MmappedChunks find_mmapped_chunks(const Snapshot& snapshot, const HeapWalk& walk,
                                  uint64_t max_chunks) {
    MmappedChunks out;
    if (!snapshot.memory) return out;
    for (const Mapping& m : snapshot.mappings) {
        if (!m.path.empty() || !m.read || !m.write || m.shared) continue;
        if (holds_heap(m, walk) || holds_stack(m, snapshot)) continue;
        // Each chunk is at least a page: a mapping holds at most size / page of them.
        uint64_t p = m.start;
        for (uint64_t k = 0; p < m.end && k < m.size() / kPage; ++k) {
            if (out.chunks.size() >= max_chunks) {
                out.truncated = true;
                return out;
            }
            uint64_t prev_size = 0, field = 0;
            if (!header(*snapshot.memory, p, prev_size, field)) break;
            const uint64_t size = field & ~uint64_t{7};
            if (prev_size != 0 || (field & 7) != kIsMmapped || size == 0 || size % kPage != 0 ||
                size > m.end - p) {
                break;
            }
            out.chunks.push_back(HeapChunk{p, size, ChunkState::kInUse, kMmappedChunkArena});
            out.bytes += size;
            p += size;
        }
    }
    return out;
}

}  // namespace dumpscope
