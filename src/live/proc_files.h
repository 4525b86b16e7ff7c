// Reading /proc safely: whole files (which can vanish at any moment: ENOENT / ESRCH come back as
// errors carrying the errno), symlinks, and directory listings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

// Each function below stores the failing errno in *err_out (when given) so callers can tell
// "gone" (ENOENT, ESRCH) from "forbidden"; *err_out is 0 on success.

// Reads a whole file (regular or /proc, whose size is unknown up front). Binary-safe.
Result<std::string> read_file_whole(const std::string& path, int* err_out = nullptr);

// readlink() of any length.
Result<std::string> read_link(const std::string& path, int* err_out = nullptr);

// Numeric entries of a directory (/proc, /proc/PID/task, /proc/PID/fd), ascending.
Result<std::vector<int32_t>> list_numeric_dir(const std::string& path, int* err_out = nullptr);

// "/proc/PID", "/proc/PID/task/TID".
std::string proc_dir(int32_t pid);
std::string task_dir(int32_t pid, int32_t tid);

// True when errno means "the process or thread is gone".
inline bool is_gone_errno(int err) { return err == ENOENT || err == ESRCH; }

// Strips one trailing newline (comm files end with one).
std::string chomp(std::string text);

// Parses a decimal (base 10) or other-base unsigned number filling the whole of text.
bool parse_u64(const std::string& text, uint64_t& out, int base = 10);

}  // namespace dumpscope
