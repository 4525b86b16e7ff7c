// TARGET on the command line: a PID or a process name.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope {

// "1234" -> 1234 if that process exists; "name" -> the one process whose comm (or argv[0]
// basename) is name. No match, or several (listed in the error with their PIDs), is an Error.
Result<int32_t> resolve_target(const std::string& pid_or_name);

}  // namespace dumpscope
