// The dynamic loader's record of loaded objects: the executable's dynamic section, r_debug
// (found through DT_DEBUG) and the link_map chain with each object's name. Debuggers (gdb on
// an ELF core) find the shared libraries of a process through it, so every dump keeps it.
#pragma once

#include <vector>

#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

std::vector<MemoryRange> loader_data_ranges(const Snapshot& snapshot);

}  // namespace dumpscope
