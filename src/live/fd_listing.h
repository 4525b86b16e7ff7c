// Open file descriptors: readlink /proc/PID/fd/N, "pos:" and "flags:" of /proc/PID/fdinfo/N,
// and a type from the link text or stat().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// An error only if /proc/PID/fd cannot be listed; descriptors closed meanwhile are skipped.
Result<std::vector<FileDescriptor>> list_fds(int32_t pid);

// "socket:[1]" -> "socket", "pipe:[2]" -> "pipe", "anon_inode:[eventfd]" -> "anon_inode", and for
// paths the st_mode: "file", "directory", "device", "fifo", "socket", "symlink"; else "unknown".
// mode is 0 when stat() failed.
std::string fd_type(std::string_view target, uint32_t mode);

// Parses "pos:\t123\nflags:\t0100002\n..." (flags are octal) into fd.
void parse_fdinfo(std::string_view fdinfo, FileDescriptor& fd);

}  // namespace dumpscope
