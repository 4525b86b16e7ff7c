// The heap commands of the analysis: !heap -s and !heap -stat, and the heap walk they share with
// the memory findings of `analyze`.
#pragma once

#include "analysis/command.h"
#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/glibc_malloc_locator.h"

namespace dumpscope {

struct HeapWalkResult {
    GlibcMalloc malloc;
    HeapWalk walk;
    const analysis::DwflSession* session = nullptr;
};

// Locates glibc's malloc in the dump and walks its heaps; an error says why not (no glibc, no
// symbols and no libc data in the dump, the heap not in the dump, an unknown release).
Result<HeapWalkResult> walk_heap_of(analysis::DumpAnalysis& dump);

// !heap [-s | -stat]: the arenas (default) or the in-use chunks by size and C++ class.
Result<analysis::CommandOutput> command_heap(analysis::DumpAnalysis& dump,
                                             const analysis::CommandArgs& args);

}  // namespace dumpscope
