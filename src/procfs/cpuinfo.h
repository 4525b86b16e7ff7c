// The machine's processor and boot time from /proc text (no I/O).
#pragma once

#include <cstdint>
#include <string_view>

#include "snapshot/snapshot.h"

namespace dumpscope {

// Fills cpu_vendor / cpu_family / cpu_model / cpu_stepping from the first processor block.
void parse_cpuinfo(std::string_view cpuinfo, SystemInfo& info);

// "btime" of /proc/stat (seconds since the epoch), 0 if absent.
uint64_t parse_boot_time(std::string_view proc_stat);

}  // namespace dumpscope
