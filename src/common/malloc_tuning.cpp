#include "common/malloc_tuning.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace dumpscope {

namespace {

constexpr uintptr_t kHugePage = 2u << 20;

// Grows the brk heap by `bytes` at once (untouched: nothing is committed until written) and asks
// for transparent huge pages on it, as glibc's own glibc.malloc.hugetlb=1 tunable does on each
// growth (a tunable only the environment at start-up can set). The growth is forced by one block
// larger than the top chunk, freed at once: its memory stays in the top chunk (the trim threshold
// is above it) for what follows.
// Under strict overcommit (vm.overcommit_memory=2) the whole growth would be committed at once,
// for each analysis (the service runs several): there the heap grows as glibc grows it.
bool strict_overcommit() {
    std::FILE* f = std::fopen("/proc/sys/vm/overcommit_memory", "re");
    if (f == nullptr) return false;
    const int mode = std::fgetc(f);
    std::fclose(f);
    return mode == '2';
}

void grow_heap_in_huge_pages(size_t bytes, size_t usual_top_pad) {
    if (strict_overcommit()) return;
    void* const before = sbrk(0);
    const size_t top = mallinfo2().keepcost;  // the top chunk
    mallopt(M_TOP_PAD, static_cast<int>(bytes));
    void* block = std::malloc(top + (64u << 10));
    std::free(block);
    mallopt(M_TOP_PAD, static_cast<int>(usual_top_pad));
    void* const after = sbrk(0);
    if (block == nullptr || before == reinterpret_cast<void*>(-1) || after <= before) return;
    // Only the part of the heap that is new and whole huge pages: a failure changes nothing.
    const uintptr_t start =
        (reinterpret_cast<uintptr_t>(before) + kHugePage - 1) & ~(kHugePage - 1);
    const uintptr_t end = reinterpret_cast<uintptr_t>(after) & ~(kHugePage - 1);
    if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
}

}  // namespace

void tune_malloc_for_analysis() {
    constexpr int kLargestHeapBlock = 32 << 20;  // DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
    constexpr int kKeepFreedTop = 0x7fffffff;    // above the heap grown below
    constexpr int kGrowHeapBy = 16 << 20;
    constexpr size_t kHugePageHeap = size_t{1} << 30;
    // Each call only tunes; a refusal leaves glibc's defaults, which are correct, only slower.
    mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
    mallopt(M_TRIM_THRESHOLD, kKeepFreedTop);
    // Every thread allocates from the main arena, the heap in huge pages.
    mallopt(M_ARENA_MAX, 1);
    grow_heap_in_huge_pages(kHugePageHeap, kGrowHeapBy);
}

}  // namespace dumpscope
