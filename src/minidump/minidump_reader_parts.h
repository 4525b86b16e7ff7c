// The stream readers behind read_minidump, one per group of streams. Each reads its streams of
// the mapped file into the snapshot being built and returns an Error on malformed input.
#pragma once

#include <map>
#include <vector>

#include "arch/arch.h"
#include "common/result.h"
#include "minidump/minidump_file.h"
#include "snapshot/range_memory_source.h"
#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

// ThreadList with contexts (of `arch`), ThreadNameList, ThreadInfoList, DumpscopeThreadExtra.
// Stacks whose bytes only the thread list holds (no memory list range covers them) go into
// `stacks`; each thread's register parts outside its CONTEXT (Teb, DumpscopeThreadExtra) into
// `register_parts`, for the exception's context.
Status read_threads(const MinidumpFile& file, const arch::ArchOps& arch, Snapshot& s,
                    std::vector<DumpMemoryRange>& stacks,
                    std::map<int32_t, arch::MinidumpRegisters>& register_parts);

// ModuleList with BpEL build-ids.
Status read_modules(const MinidumpFile& file, Snapshot& s);

// Mappings from LinuxMaps, else MemoryInfoList, else the memory ranges and modules (read the
// modules first). Widens each module's end to the last mapping of its file (lldb writes sizes
// that cover only part of an image).
Status read_mappings(const MinidumpFile& file, Snapshot& s);

// HandleData as file descriptors.
Status read_handles(const MinidumpFile& file, Snapshot& s);

}  // namespace dumpscope::minidump
