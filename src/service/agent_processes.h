// What `dumpscope agent` answers when the server asks for its processes: every process of the
// machine (kernel threads and zombies left out) from /proc, read with the procfs parsers.
//   {pid, name (comm), cmdline (NUL-separated arguments joined by spaces, at most 1 KiB), user,
//    rss_bytes, cpu_seconds (user + system), cpu_percent (average over the process's life, 100
//    per core), allowed (on the agent's allow-list, true without one)}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope::service {

// At most 8192 processes, ascending by PID.
Result<nlohmann::json> list_processes(const std::vector<std::string>& allow);

// The names a process answers to as `collect` matches names: comm and argv[0]'s base name.
Result<std::vector<std::string>> process_names(int32_t pid);

// True if the allow-list is empty or holds one of the names.
bool allowed_by(const std::vector<std::string>& allow, const std::vector<std::string>& names);

}  // namespace dumpscope::service
