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

}  // namespace dumpscope
