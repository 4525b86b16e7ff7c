// The machine: uname, CPU (from /proc/cpuinfo), OS release, page size, boot time.
#pragma once

#include <string_view>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Fails only if uname() fails; missing files (os-release, cpuinfo) leave their fields empty.
Result<SystemInfo> read_system_info();

}  // namespace dumpscope
