#include "diagnosis/glibc_heap_walk.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <unordered_set>

#include "diagnosis/forward_scan.h"

namespace dumpscope {

namespace {

constexpr uint64_t kPrevInUse = 1;
constexpr uint64_t kSizeBits = 7;  // PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA
constexpr uint64_t kHeaderSize = 16;

bool read_word(const MemorySource& memory, uint64_t addr, uint64_t& out) {
    std::array<uint8_t, 8> bytes{};
    auto n = memory.read(addr, bytes);
    if (!n.ok() || *n != bytes.size()) return false;
    std::memcpy(&out, bytes.data(), 8);
    return true;
}

class Walker {
public:
    Walker(const Snapshot& snapshot, const MallocLayout& layout, const HeapWalkLimits& limits,
           HeapWalk& walk, HeapWalkObserver* observer)
        : memory_(*snapshot.memory),
          snapshot_(snapshot),
          layout_(layout),
          limits_(limits),
          walk_(walk),
          window_(*snapshot.memory),
          observer_(observer) {}

    void walk_arena(uint64_t arena, bool main) {
        ArenaSummary summary;
        summary.address = arena;
        summary.main = main;
        read_word(memory_, arena + layout_.arena_system_mem, summary.system_mem);
        if (!read_word(memory_, arena + layout_.arena_top, summary.top_chunk)) {
            summary.stopped = fmt::format("arena {:#x}: its top pointer is not in the dump", arena);
            walk_.arenas.push_back(std::move(summary));
            return;
        }
        if (summary.top_chunk == 0 || summary.top_chunk % layout_.alignment != 0) {
            summary.stopped =
                fmt::format("arena {:#x}: no top chunk ({:#x})", arena, summary.top_chunk);
            walk_.arenas.push_back(std::move(summary));
            return;
        }
        uint64_t top_field = 0;
        if (read_word(memory_, summary.top_chunk + 8, top_field)) {
            summary.top_size = top_field & ~kSizeBits;
        }
        const auto index = static_cast<uint16_t>(walk_.arenas.size());
        walk_.arenas.push_back(std::move(summary));
        if (main) {
            walk_main_heap(index);
        } else {
            walk_mmapped_heaps(index);
        }
    }

    bool out_of_chunks() const { return walk_.chunks.size() >= limits_.max_chunks; }
    uint64_t bytes_read() const { return window_.bytes_read(); }

private:
    static constexpr size_t kBatch = 4096;  // chunks told of at a time

    ArenaSummary& arena(uint16_t index) { return walk_.arenas[index]; }

    // Tells the observer of the chunks walked since the last time (`at_least` of them).
    void tell(size_t at_least) {
        if (observer_ == nullptr || walk_.chunks.size() - told_ < at_least) return;
        observer_->walked(std::span<const HeapChunk>(walk_.chunks).subspan(told_));
        told_ = walk_.chunks.size();
    }

    // The main arena's heap is the brk area: from the start of the mapping that holds its top
    // chunk up to that top chunk.
    void walk_main_heap(uint16_t index) {
        const uint64_t top = arena(index).top_chunk;
        const Mapping* mapping = snapshot_.mapping_at(top);
        if (mapping == nullptr) {
            arena(index).stopped =
                fmt::format("main arena: its top chunk {:#x} is in no mapping", top);
            return;
        }
        const uint64_t start = (mapping->start + layout_.alignment - 1) & ~(layout_.alignment - 1);
        walk_segment(index, start, top, /*ends_at_top=*/true);
    }

    // A non-main arena lives at the start of its first heap, right after that heap's heap_info;
    // its other heaps hang off the heap holding the top chunk through heap_info.prev.
    void walk_mmapped_heaps(uint16_t index) {
        const uint64_t arena_address = arena(index).address;
        const uint64_t top = arena(index).top_chunk;
        uint64_t heap = top & ~(layout_.heap_max_size - 1);
        std::unordered_set<uint64_t> seen;
        for (uint32_t n = 0; heap != 0; ++n) {
            if (n >= limits_.max_heaps_per_arena || !seen.insert(heap).second) {
                arena(index).stopped =
                    fmt::format("arena {:#x}: heap list loops or is too long at heap {:#x}",
                                arena_address, heap);
                return;
            }
            uint64_t owner = 0, prev = 0, size = 0;
            if (!read_word(memory_, heap, owner) ||
                !read_word(memory_, heap + layout_.heap_info_prev, prev) ||
                !read_word(memory_, heap + layout_.heap_info_heap_size, size)) {
                arena(index).stopped = fmt::format(
                    "arena {:#x}: heap_info at {:#x} is not in the dump", arena_address, heap);
                return;
            }
            if (owner != arena_address || size == 0 || size > layout_.heap_max_size) {
                arena(index).stopped = fmt::format(
                    "arena {:#x}: heap_info at {:#x} does not belong to it (ar_ptr {:#x}, size "
                    "{:#x})",
                    arena_address, heap, owner, size);
                return;
            }
            uint64_t first = heap + layout_.heap_info_size;
            if (first == arena_address) {  // the arena's own heap: chunks after malloc_state
                first = arena_address + layout_.arena_size;
                const uint64_t misalign = (first + kHeaderSize) & (layout_.alignment - 1);
                if (misalign != 0) first += layout_.alignment - misalign;
            }
            const bool holds_top = top >= heap && top < heap + size;
            walk_segment(index, first, holds_top ? top : heap + size, holds_top);
            if (out_of_chunks()) return;
            heap = prev;
        }
    }

    // Walks chunks from `start`: up to the top chunk (ends_at_top), else up to `end` or the
    // fenceposts that close an abandoned heap (a chunk of size 16, then one of size 0).
    void walk_segment(uint16_t index, uint64_t start, uint64_t end, bool ends_at_top) {
        HeapSegment segment{start, start};
        uint64_t p = start;
        bool pending = false;
        HeapChunk previous;
        uint64_t previous_first = 0;  // its first user word, on the header's page
        std::string stopped;
        while (p < end) {
            if (out_of_chunks()) {
                stopped = fmt::format("chunk limit ({}) reached at {:#x}", limits_.max_chunks, p);
                break;
            }
            uint64_t field = 0;
            if (!window_.word(p + 8, field)) {
                stopped = fmt::format("chunk at {:#x} is not in the dump", p);
                break;
            }
            const uint64_t size = field & ~kSizeBits;
            if (pending) {  // this header says whether the chunk before it is in use
                previous.state = (field & kPrevInUse) != 0 ? ChunkState::kInUse : ChunkState::kFree;
                walk_.chunks.push_back(previous);
                walk_.first_words.push_back(previous_first);
                tell(kBatch);
                pending = false;
            }
            if (size == kHeaderSize && !ends_at_top) break;  // fencepost of an abandoned heap
            if (size < layout_.min_chunk || size % layout_.alignment != 0 || size > end - p) {
                stopped = fmt::format("chunk at {:#x} has an impossible size {:#x}", p, field);
                break;
            }
            previous = HeapChunk{p, size, ChunkState::kInUse, index};
            if (!window_.word(p + kHeaderSize, previous_first)) previous_first = 0;
            pending = true;
            p += size;
        }
        if (pending && stopped.empty()) {
            // The last chunk before the top: the top chunk's header carries its PREV_INUSE bit.
            uint64_t field = 0;
            if (window_.word(p + 8, field)) {
                previous.state = (field & kPrevInUse) != 0 ? ChunkState::kInUse : ChunkState::kFree;
                walk_.chunks.push_back(previous);
                walk_.first_words.push_back(previous_first);
            } else {
                stopped = fmt::format("chunk at {:#x} is not in the dump", p);
            }
        }
        tell(1);
        segment.end = p;
        if (stopped.empty() && ends_at_top && p != end) {
            stopped = fmt::format("the walk ended at {:#x}, not at the top chunk {:#x}", p, end);
        }
        if (!stopped.empty() && arena(index).stopped.empty()) {
            arena(index).stopped = fmt::format("arena {:#x}: {}", arena(index).address, stopped);
        }
        arena(index).segments.push_back(segment);
    }

    const MemorySource& memory_;
    const Snapshot& snapshot_;
    const MallocLayout& layout_;
    const HeapWalkLimits& limits_;
    HeapWalk& walk_;
    WindowReader window_;
    HeapWalkObserver* observer_;
    size_t told_ = 0;  // chunks the observer was told of
};

// Sorts the chunks (each heap was walked in order, the heaps in any) and their first words.
void sort_by_address(HeapWalk& walk) {
    const auto by_address = [](const HeapChunk& a, const HeapChunk& b) {
        return a.address < b.address;
    };
    if (std::is_sorted(walk.chunks.begin(), walk.chunks.end(), by_address)) return;
    std::vector<size_t> order(walk.chunks.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return walk.chunks[a].address < walk.chunks[b].address; });
    std::vector<HeapChunk> chunks;
    std::vector<uint64_t> words;
    chunks.reserve(order.size());
    words.reserve(order.size());
    for (size_t i : order) {
        chunks.push_back(walk.chunks[i]);
        words.push_back(walk.first_words[i]);
    }
    walk.chunks = std::move(chunks);
    walk.first_words = std::move(words);
}

// The chunk whose header is at `address`, or null.
HeapChunk* chunk_at(std::vector<HeapChunk>& chunks, uint64_t address) {
    auto it = std::lower_bound(chunks.begin(), chunks.end(), address,
                               [](const HeapChunk& c, uint64_t a) { return c.address < a; });
    return it != chunks.end() && it->address == address ? &*it : nullptr;
}

uint64_t reveal(uint64_t position, uint64_t stored, bool safe_linking) {
    return safe_linking ? (position >> 12) ^ stored : stored;
}

// The word at a free chunk's user memory (tcache next, fastbin fd): the walk read it with the
// header (first_words), so that following lists all over the heap does not read the dump at
// random; a 0 there may be a word the dump lacks, and is read again.
bool list_link(ScatteredReads& memory, const HeapWalk& walk, const HeapChunk& chunk,
               uint64_t& out) {
    const auto index = static_cast<size_t>(&chunk - walk.chunks.data());
    if (index < walk.first_words.size() && walk.first_words[index] != 0) {
        out = walk.first_words[index];
        return true;
    }
    return memory.word(chunk.user_address(), out);
}

// Follows one singly linked free list (tcache: pointers to user memory; fastbin: to chunks),
// marking each chunk; the list must hold chunks of `size` only. Returns how many it marked, or
// -1 when the list is not a list of such chunks (then nothing is marked).
int64_t follow_list(ScatteredReads& memory, HeapWalk& walk, uint64_t head, bool points_to_user,
                    uint64_t size, ChunkState state, const MallocLayout& layout, uint64_t limit) {
    std::vector<HeapChunk*> members;
    std::unordered_set<uint64_t> seen;
    uint64_t entry = head;
    while (entry != 0) {
        if (members.size() >= limit || !seen.insert(entry).second) return -1;
        const uint64_t chunk_address = points_to_user ? entry - kHeaderSize : entry;
        HeapChunk* chunk = chunk_at(walk.chunks, chunk_address);
        if (chunk == nullptr || chunk->size != size || chunk->state != ChunkState::kInUse) {
            return -1;
        }
        members.push_back(chunk);
        uint64_t stored = 0;
        if (!list_link(memory, walk, *chunk, stored)) return -1;
        entry = reveal(chunk->user_address(), stored, layout.safe_linking);
    }
    for (HeapChunk* chunk : members) chunk->state = state;
    return static_cast<int64_t>(members.size());
}

// Puts the chunks of a list that turned out not to be a tcache list back as they were.
void unmark_list(ScatteredReads& memory, HeapWalk& walk, uint64_t head, const MallocLayout& layout,
                 uint64_t limit) {
    uint64_t entry = head;
    for (uint64_t k = 0; entry != 0 && k < limit; ++k) {
        HeapChunk* chunk = chunk_at(walk.chunks, entry - kHeaderSize);
        if (chunk == nullptr || chunk->state != ChunkState::kTcache) return;
        chunk->state = ChunkState::kInUse;
        uint64_t stored = 0;
        if (!list_link(memory, walk, *chunk, stored)) return;
        entry = reveal(entry, stored, layout.safe_linking);
    }
}

struct TcacheList {
    uint32_t bin = 0;
    uint64_t head = 0;   // a pointer to the first free chunk's user memory
    uint64_t count = 0;  // counts[bin]
};

// The lists of the tcache_perthread_struct at `tcache` (user memory), or nullopt when its counts
// and heads disagree (a list without a count, a count without a list).
std::optional<std::vector<TcacheList>> read_tcache(ScatteredReads& memory, uint64_t tcache,
                                                   const MallocLayout& layout) {
    std::vector<uint8_t> bytes(layout.tcache_struct_size);
    auto n = memory.read(tcache, bytes);
    if (!n.ok() || *n != bytes.size()) return std::nullopt;
    const uint64_t heads = uint64_t{layout.tcache_bins} * layout.tcache_count_bytes;
    std::vector<TcacheList> lists;
    for (uint32_t bin = 0; bin < layout.tcache_bins; ++bin) {
        TcacheList list{bin, 0, 0};
        std::memcpy(&list.count, bytes.data() + bin * layout.tcache_count_bytes,
                    layout.tcache_count_bytes);
        std::memcpy(&list.head, bytes.data() + heads + 8 * bin, 8);
        if ((list.head == 0) != (list.count == 0)) return std::nullopt;
        if (list.head != 0) lists.push_back(list);
    }
    return lists;
}

// tcache_perthread_structs are ordinary chunks, the first a thread allocates in its arena. A chunk
// of that size is taken for one only if every list it heads is a list of chunks of the bin's size
// whose length is the bin's count; otherwise nothing of it is marked.
void mark_tcaches(ScatteredReads& memory, HeapWalk& walk, const HeapWalkLimits& limits) {
    const MallocLayout& layout = walk.layout;
    std::vector<uint64_t> candidates;
    for (const HeapChunk& c : walk.chunks) {
        if (c.size == layout.tcache_struct_chunk_size() && c.state == ChunkState::kInUse) {
            candidates.push_back(c.user_address());
        }
    }
    for (uint64_t tcache : candidates) {
        auto lists = read_tcache(memory, tcache, layout);
        if (!lists) continue;
        std::vector<uint64_t> marked_heads;
        bool all = true;
        for (const TcacheList& list : *lists) {
            const int64_t n =
                follow_list(memory, walk, list.head, /*points_to_user=*/true,
                            layout.bin_chunk_size(list.bin), ChunkState::kTcache, layout,
                            std::min<uint64_t>(list.count, limits.max_list_entries));
            if (n > 0) marked_heads.push_back(list.head);
            if (n < 0 || static_cast<uint64_t>(n) != list.count) {
                all = false;
                break;
            }
        }
        if (all) {
            ++walk.tcache_structs;
            walk.tcache_struct_chunks.push_back(tcache - kHeaderSize);
            continue;
        }
        for (uint64_t head : marked_heads) {
            unmark_list(memory, walk, head, layout, limits.max_list_entries);
        }
    }
}

void mark_fastbins(ScatteredReads& memory, HeapWalk& walk, const HeapWalkLimits& limits) {
    const MallocLayout& layout = walk.layout;
    for (const ArenaSummary& arena : walk.arenas) {
        for (uint32_t i = 0; i < layout.fastbin_count; ++i) {
            uint64_t head = 0;
            if (!memory.word(arena.address + layout.arena_fastbins + 8 * i, head)) break;
            if (head == 0) continue;
            if (follow_list(memory, walk, head, /*points_to_user=*/false, layout.bin_chunk_size(i),
                            ChunkState::kFastbin, layout, limits.max_list_entries) < 0) {
                walk.notes.push_back(
                    fmt::format("arena {:#x}: fastbin {} (chunks of {} bytes) at {:#x} is not a "
                                "list of such chunks: its chunks are counted as in use",
                                arena.address, i, layout.bin_chunk_size(i), head));
            }
        }
    }
}

void add_up(HeapWalk& walk) {
    for (const HeapChunk& c : walk.chunks) {
        ArenaSummary& a = walk.arenas[c.arena];
        switch (c.state) {
            case ChunkState::kInUse:
                ++a.in_use_chunks;
                a.in_use_bytes += c.size;
                break;
            case ChunkState::kFree:
                ++a.free_chunks;
                a.free_bytes += c.size;
                break;
            case ChunkState::kTcache:
            case ChunkState::kFastbin:
                ++a.cached_chunks;
                a.cached_bytes += c.size;
                break;
        }
    }
}

}  // namespace

const char* chunk_state_name(ChunkState state) {
    switch (state) {
        case ChunkState::kInUse:
            return "in use";
        case ChunkState::kFree:
            return "free";
        case ChunkState::kTcache:
            return "tcache";
        case ChunkState::kFastbin:
            return "fastbin";
    }
    return "unknown";
}

uint64_t HeapWalk::in_use_bytes() const {
    uint64_t total = 0;
    for (const ArenaSummary& a : arenas) total += a.in_use_bytes;
    return total;
}

uint64_t HeapWalk::in_use_chunks() const {
    uint64_t total = 0;
    for (const ArenaSummary& a : arenas) total += a.in_use_chunks;
    return total;
}

bool HeapWalk::complete() const {
    return std::all_of(arenas.begin(), arenas.end(),
                       [](const ArenaSummary& a) { return a.stopped.empty(); });
}

Result<HeapWalk> walk_glibc_heap(const Snapshot& snapshot, uint64_t main_arena,
                                 const MallocLayout& layout, const HeapWalkLimits& limits,
                                 HeapWalkObserver* observer) {
    if (!snapshot.memory) return Error{"the snapshot has no memory"};
    const MemorySource& memory = *snapshot.memory;
    uint64_t next = 0;
    if (!read_word(memory, main_arena + layout.arena_next, next)) {
        return Error{fmt::format("main_arena at {:#x} is not in the dump", main_arena)};
    }
    HeapWalk walk;
    walk.layout = layout;
    Walker walker(snapshot, layout, limits, walk, observer);
    std::unordered_set<uint64_t> seen;
    uint64_t arena = main_arena;
    for (uint32_t n = 0;; ++n) {
        if (n >= limits.max_arenas) {
            walk.notes.push_back(
                fmt::format("more than {} arenas: the rest are not walked", limits.max_arenas));
            break;
        }
        seen.insert(arena);
        walker.walk_arena(arena, arena == main_arena);
        if (!read_word(memory, arena + layout.arena_next, next)) {
            walk.notes.push_back(
                fmt::format("arena {:#x}: its next pointer is not in the dump", arena));
            break;
        }
        if (next == main_arena) break;
        if (next == 0 || seen.count(next) != 0) {
            walk.notes.push_back(
                fmt::format("arena {:#x}: the ring of arenas is broken (next {:#x})", arena, next));
            break;
        }
        arena = next;
    }
    sort_by_address(walk);
    // The free lists go all over the heap.
    ScatteredReads lists(memory);
    mark_tcaches(lists, walk, limits);
    mark_fastbins(lists, walk, limits);
    add_up(walk);
    walk.bytes_read = walker.bytes_read();
    for (const ArenaSummary& a : walk.arenas) {
        if (!a.stopped.empty()) walk.notes.push_back(a.stopped);
    }
    return walk;
}

}  // namespace dumpscope
