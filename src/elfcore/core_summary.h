// Reads an ELF core file (ours, gcore's, the kernel's) far enough to describe it.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/dump_summary.h"

namespace dumpscope {

bool looks_like_elf_core(const std::string& path);
Result<DumpSummary> summarize_elf_core(const std::string& path);

}  // namespace dumpscope
