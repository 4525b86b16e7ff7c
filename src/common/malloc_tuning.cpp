#include "common/malloc_tuning.h"

#include <malloc.h>

namespace dumpscope {

void tune_malloc_for_analysis() {
    constexpr int kLargestHeapBlock = 32 << 20;  // DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
    constexpr int kKeepFreedTop = 1 << 30;
    constexpr int kGrowHeapBy = 16 << 20;
    // Each call only tunes; a refusal leaves glibc's defaults, which are correct, only slower.
    mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
    mallopt(M_TRIM_THRESHOLD, kKeepFreedTop);
    mallopt(M_TOP_PAD, kGrowHeapBy);
}

}  // namespace dumpscope
