// What a descriptor is, from its /proc/PID/fd link text and /proc/PID/fdinfo text (no I/O).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "snapshot/snapshot.h"

namespace dumpscope {

// "socket:[1]" -> "socket", "pipe:[2]" -> "pipe", "anon_inode:[eventfd]" -> "anon_inode", and for
// paths the st_mode: "file", "directory", "device", "fifo", "socket", "symlink"; else "unknown".
// mode is 0 when stat() failed.
std::string fd_type(std::string_view target, uint32_t mode);

// Parses "pos:\t123\nflags:\t0100002\n..." (flags are octal) into fd.
void parse_fdinfo(std::string_view fdinfo, FileDescriptor& fd);

}  // namespace dumpscope
