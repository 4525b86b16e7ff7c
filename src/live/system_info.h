// The machine: uname, CPU (from /proc/cpuinfo), OS release, page size, boot time.
#pragma once

#include <string_view>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Fails only if uname() fails; missing files (os-release, cpuinfo) leave their fields empty.
Result<SystemInfo> read_system_info();

// Fills cpu_vendor / cpu_family / cpu_model / cpu_stepping from the first processor block.
void parse_cpuinfo(std::string_view cpuinfo, SystemInfo& info);

// "btime" of /proc/stat (seconds since the epoch), 0 if absent.
uint64_t parse_boot_time(std::string_view proc_stat);

}  // namespace dumpscope
