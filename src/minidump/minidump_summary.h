// Reads a minidump file (ours or anyone's) far enough to describe it: `dumpscope info`.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/dump_summary.h"

namespace dumpscope {

// True if the file starts with the MDMP signature.
bool looks_like_minidump(const std::string& path);
// Every offset and count is checked against the file; bad input is an Error, never a crash.
Result<DumpSummary> summarize_minidump(const std::string& path);

}  // namespace dumpscope
