// Sink: writes a snapshot as an ELF core file like gcore's, which gdb and eu-stack read.
#pragma once

#include "common/result.h"
#include "output/dump_content.h"
#include "output/dump_file.h"
#include "output/write_context.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Same contract as write_minidump (the capture record goes into the trailing notes).
Result<uint64_t> write_elf_core(const Snapshot& snapshot, const DumpContent& content,
                                DumpFile& file, const WriteContext& ctx);

}  // namespace dumpscope
