// The stream readers behind read_minidump, one per group of streams. Each reads its streams of
// the mapped file into the snapshot being built and returns an Error on malformed input.
#pragma once

#include <vector>

#include "common/result.h"
#include "minidump/minidump_file.h"
#include "snapshot/range_memory_source.h"
#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

// ThreadList with contexts, ThreadNameList, ThreadInfoList, DumpscopeThreadExtra. Stacks whose
// bytes only the thread list holds (no memory list range covers them) go into `stacks`.
Status read_threads(const MinidumpFile& file, Snapshot& s, std::vector<DumpMemoryRange>& stacks);

// Registers from an AMD64 CONTEXT of `size` bytes (lldb writes 720, Breakpad 1232).
Result<ThreadRegisters> registers_from_context(std::span<const uint8_t> context,
                                               std::string_view what);

// ModuleList with BpEL build-ids.
Status read_modules(const MinidumpFile& file, Snapshot& s);

// Mappings from LinuxMaps, else MemoryInfoList, else the memory ranges and modules (read the
// modules first). Widens each module's end to the last mapping of its file (lldb writes sizes
// that cover only part of an image).
Status read_mappings(const MinidumpFile& file, Snapshot& s);

// HandleData as file descriptors.
Status read_handles(const MinidumpFile& file, Snapshot& s);

}  // namespace dumpscope::minidump
