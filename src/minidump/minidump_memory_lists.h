// The memory a minidump holds: its MemoryList and Memory64List streams, every descriptor and
// every range's bytes checked to lie inside the file. Used by the reader (the snapshot's memory)
// and the summary (what `info` lists).
#pragma once

#include <vector>

#include "common/result.h"
#include "minidump/minidump_file.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope {

// Appends the ranges of MemoryList, then of Memory64List, in file order. In a truncated file a
// range keeps the bytes before the end (the rest is absent) and is counted in `cut` if given.
Status read_memory_lists(const minidump::MinidumpFile& file, std::vector<DumpMemoryRange>& ranges,
                         Truncation* cut = nullptr);

}  // namespace dumpscope
