// The service's own directories (dumps, symbols, uploads): created 0700, and synced after a
// rename into them so that the new name survives a crash of the machine; and the files written
// into them as they arrive.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope::service {

// Creates `path` (0700) unless it exists; an error if it exists and is not a directory.
Status make_private_dir(const std::string& path);

// fsync of the directory itself.
Status sync_dir(const std::string& dir);

// Appends `bytes` to the file open at `fd`, named `path` in errors and holding `offset` bytes so
// far, through interrupted and short writes. On failure `disk_full` says whether it was for want
// of space (ENOSPC, EDQUOT), which the routes answer with 507.
Status append_to_file(int fd, std::string_view bytes, const std::string& path, uint64_t offset,
                      bool& disk_full);

}  // namespace dumpscope::service
