// What every dump reader does after reading its format: derive the parts of the snapshot that a
// format leaves implicit from the parts it records (each thread's stack mapping, the main
// executable, module ends), sort, and check that what was read is consistent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "snapshot/snapshot.h"

namespace dumpscope {

// AT_* values used by the readers.
inline constexpr uint64_t kAuxvPhdr = 3;
inline constexpr uint64_t kAuxvEntry = 9;
inline constexpr uint64_t kAuxvSysinfoEhdr = 33;  // the vdso's ELF header

// The value of an auxv entry (pairs of u64), nullopt if absent.
std::optional<uint64_t> auxv_value(std::span<const uint8_t> auxv, uint64_t type);

// Sorts mappings and modules; gives each thread without a stack range the mapping holding its
// rsp; marks the main executable (the module holding AT_PHDR or AT_ENTRY, else the one named
// like process.exe); sets process.exe and process.name from it when unknown.
void complete_dump_snapshot(Snapshot& snapshot);

}  // namespace dumpscope
