// Sink: writes a snapshot as a Windows-format minidump (MDMP) that lldb, Breakpad and
// rust-minidump read. Stream layout and the dumpscope streams: docs/streams.md.
#pragma once

#include "common/result.h"
#include "output/dump_content.h"
#include "output/dump_file.h"
#include "output/write_context.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Writes everything into `file` (not committed). Calls ctx.target_memory_done once after the
// last read of target memory, then writes the capture record record_to_write gives (the
// snapshot's, or the caller's through ctx.capture_record, with the write's notes), whose time
// and flags also go into the header. Returns the final file size to pass to DumpFile::commit.
Result<uint64_t> write_minidump(const Snapshot& snapshot, const DumpContent& content,
                                DumpFile& file, const WriteContext& ctx);

}  // namespace dumpscope
