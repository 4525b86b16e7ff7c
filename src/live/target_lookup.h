// TARGET on the command line: a PID or a process name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

// "1234" -> 1234 if that process exists ("no such process: 1234" otherwise; a thread id gives
// its process); "name" -> the one process whose comm (or argv[0] basename) is name, skipping
// dumpscope itself, kernel threads and zombies. No match ("no process named X"), or several
// ("2 processes are named X: 12 (cmdline), 34 (cmdline); give a PID"), is an Error.
Result<int32_t> resolve_target(const std::string& pid_or_name);

// Every process answering to `name` as resolve_target() matches names (comm or argv[0]
// basename; not dumpscope itself, kernel threads or zombies), ascending. Empty if none.
Result<std::vector<int32_t>> processes_named(const std::string& name);

}  // namespace dumpscope
