// The collector the kernel starts for every crash once `crash-handler install` has set
// core_pattern: reads the core from standard input, writes a minidump (the configured preset,
// through read_elf_core) and, if configured or if the conversion fails, the ELF core itself,
// into the output directory, both zstd-compressed while written (.dmp.zst, .core.zst) when the
// configuration says compress_level; then trims the directory to its quota, oldest dumps first.
// Works for processes that cannot be traced: nothing is attached, the kernel sends the core.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "common/result.h"
#include "monitor/crash_handler_config.h"

namespace dumpscope {

struct CrashReport {
    int32_t pid = 0;   // %P: in the initial pid namespace
    int signo = 0;     // %s
    time_t when = 0;   // %t
    std::string comm;  // %e
};

struct CrashCollectResult {
    std::string minidump;              // "" if the conversion failed
    std::string core;                  // "" unless kept
    std::string conversion_error;      // why there is no minidump
    std::vector<std::string> removed;  // by the quota
    uint64_t core_bytes = 0;           // read from the kernel
};

Result<CrashCollectResult> collect_crash(const CrashHandlerConfig& config,
                                         const CrashReport& report, int core_fd);

// One line in <output_dir>/crash-handler.log (best effort: the kernel shows us no terminal).
void log_crash_line(const CrashHandlerConfig& config, const std::string& line);

}  // namespace dumpscope
