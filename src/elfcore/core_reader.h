// Source: reads an ELF core file (dumpscope's, gcore's, the kernel's) into a Snapshot. The file
// is mapped, never read whole: the snapshot's memory reads straight from the mapping, and an
// address without bytes in the file reads short. Every offset, size and count is checked against
// the file; malformed input is a one-line Error naming the file.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

Result<Snapshot> read_elf_core(const std::string& path);

}  // namespace dumpscope
