// /proc/sys/kernel/core_pattern: what the kernel does with a crashing process's core. The crash
// handler installs a pipe pattern ("|/path/to/dumpscope crash-handler collect ..."), as
// systemd-coredump does, and puts back the previous value on uninstall.
#pragma once

#include <string>

#include "common/result.h"

namespace dumpscope {

inline constexpr const char* kCorePatternPath = "/proc/sys/kernel/core_pattern";
// The kernel keeps at most 127 characters (CORENAME_MAX_SIZE 128 with the NUL).
inline constexpr size_t kCorePatternMax = 127;

Result<std::string> read_core_pattern();  // without the trailing newline
Status write_core_pattern(const std::string& pattern);

// "|BINARY crash-handler collect [--config CONFIG] %P %s %t %e": pid in the initial namespace,
// signal, time, and the command name last (it may contain spaces). Errors when longer than
// the kernel keeps.
Result<std::string> crash_handler_pattern(const std::string& binary, const std::string& config);

// True when pattern pipes into a dumpscope crash handler.
bool is_crash_handler_pattern(const std::string& pattern);

}  // namespace dumpscope
