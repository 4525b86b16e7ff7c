// /proc/PID/cmdline and environ: NUL-separated strings.
#pragma once

#include <string>
#include <vector>

namespace dumpscope {

// "a\0b\0" -> {"a", "b"}.
std::vector<std::string> split_nul(const std::string& raw);

}  // namespace dumpscope
