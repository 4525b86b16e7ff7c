// Open any dump file as a Snapshot: the one entry point analysis (and conversion) use, so that
// nothing above the readers needs to know which format a file is in.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Reads a minidump or an ELF core, whichever the file is. `format` gets "minidump"/"elf-core".
Result<Snapshot> read_dump_file(const std::string& path, std::string* format = nullptr);

}  // namespace dumpscope
