// The process-wide part of a live snapshot: /proc/PID/{status,stat,cmdline,environ,auxv,maps}
// and the executable path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// status, stat and maps are required ("process PID exited during the dump" if gone); cmdline,
// environ, auxv and exe are best effort (a line in `notes` when unreadable for another reason).
Result<ProcessInfo> read_process_info(int32_t pid, uint64_t boot_time_unix,
                                      std::vector<std::string>& notes);

// A /proc file of pid that must exist: a vanished process becomes "process PID exited during
// the dump".
Result<std::string> read_required_proc_file(int32_t pid, const std::string& relative_path);

}  // namespace dumpscope
