// The service's own directories (dumps, symbols, uploads): created 0700, and synced after a
// rename into them so that the new name survives a crash of the machine.
#pragma once

#include <string>

#include "common/result.h"

namespace dumpscope::service {

// Creates `path` (0700) unless it exists; an error if it exists and is not a directory.
Status make_private_dir(const std::string& path);

// fsync of the directory itself.
Status sync_dir(const std::string& dir);

}  // namespace dumpscope::service
