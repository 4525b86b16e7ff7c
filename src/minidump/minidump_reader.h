// Source: reads a minidump (dumpscope's, lldb's `process save-core`, Breakpad's, Crashpad's) into
// a Snapshot. The file is mapped, never read whole: the snapshot's memory reads straight from the
// mapping and reads short where the dump has no bytes. Every RVA, size and count is checked
// against the file; malformed input is a one-line Error naming the file.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

Result<Snapshot> read_minidump(const std::string& path);

}  // namespace dumpscope
