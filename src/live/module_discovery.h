// Modules (loaded ELF objects) from the mappings: file-backed mappings grouped by file, the
// vdso, build-ids from memory (else from the file), and which one is the main executable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot/memory_source.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Groups file-backed mappings by (device, inode, path): a group starts at a mapping of file
// offset 0 and takes the later mappings of the same file; base = lowest start, end = highest
// end, extended over an anonymous rw mapping that starts exactly at that end (.bss). Groups
// whose first bytes are not an ELF header (data files, locale archives) are not modules.
// [vdso] becomes "linux-vdso.so.1". `exe_path` (readlink /proc/PID/exe) marks the main
// executable. `pid` locates the files through /proc/PID/map_files and /proc/PID/root for the
// build-id fallback; 0 reads `path` directly. `mappings` must be sorted; result sorted by base.
std::vector<Module> discover_modules(const std::vector<Mapping>& mappings,
                                     const MemorySource& memory, const std::string& exe_path,
                                     int32_t pid);

}  // namespace dumpscope
