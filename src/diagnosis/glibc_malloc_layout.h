// The layout of glibc's malloc (ptmalloc) on x86-64, keyed by glibc version: where a heap walk
// finds an arena's top chunk, fastbins, next arena and size, how big a heap_info and a
// tcache_perthread_struct are, and whether free-list pointers are safe-linked. Facts from glibc's
// malloc/malloc.c and malloc/arena.c of each release (../shared/FIELD-NOTES.md, "glibc heap from a
// dump"); a version outside the table is refused rather than guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dumpscope {

struct GlibcVersion {
    int major = 0;
    int minor = 0;
    bool operator==(const GlibcVersion&) const = default;
    std::string text() const;  // "2.36"
};

// "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36." -> 2.36, from the
// banner every libc.so.6 carries in .rodata (also "glibc 2.36" / "GLIBC_2.36" forms are not
// accepted: only the banner says which release the code is).
std::optional<GlibcVersion> parse_glibc_banner(std::string_view text);

struct MallocLayout {
    GlibcVersion version;
    // struct malloc_state
    uint64_t arena_fastbins = 0;    // mfastbinptr fastbinsY[NFASTBINS]
    uint32_t fastbin_count = 0;     // NFASTBINS (10 on x86-64)
    uint64_t arena_top = 0;         // mchunkptr top
    uint64_t arena_next = 0;        // struct malloc_state *next (the ring of arenas)
    uint64_t arena_system_mem = 0;  // INTERNAL_SIZE_T system_mem
    uint64_t arena_size = 0;        // sizeof(struct malloc_state)
    // heap_info of the mmapped heaps of non-main arenas
    uint64_t heap_info_size = 0;         // sizeof(heap_info)
    uint64_t heap_info_prev = 8;         // struct _heap_info *prev
    uint64_t heap_info_heap_size = 16;   // size_t size
    uint64_t heap_max_size = 64u << 20;  // HEAP_MAX_SIZE: heaps are aligned to it
    // tcache (since 2.26)
    uint32_t tcache_bins = 0;         // TCACHE_MAX_BINS
    uint32_t tcache_count_bytes = 0;  // sizeof of one counts[] entry (1 before 2.30, 2 since)
    uint64_t tcache_struct_size = 0;  // sizeof(tcache_perthread_struct)
    bool safe_linking = false;        // tcache and fastbin next pointers are (pos >> 12) ^ ptr
    // chunks
    uint64_t alignment = 16;  // MALLOC_ALIGNMENT
    uint64_t min_chunk = 32;  // MINSIZE

    // The chunk size of the tcache_perthread_struct's own chunk (header included).
    uint64_t tcache_struct_chunk_size() const {
        return (tcache_struct_size + 8 + alignment - 1) / alignment * alignment;
    }
    // The chunk size a tcache or fastbin index holds.
    uint64_t bin_chunk_size(uint32_t index) const { return min_chunk + alignment * index; }
};

// The layout of glibc `version` on x86-64, or nullopt for a release the table does not know
// (before 2.26, or after the last release checked).
std::optional<MallocLayout> malloc_layout_for(GlibcVersion version);

// "2.26 to 2.41": the releases malloc_layout_for knows, for messages.
std::string known_malloc_layouts();

}  // namespace dumpscope
