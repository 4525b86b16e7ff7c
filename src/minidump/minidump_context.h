// Thread registers of the snapshot as the 1232-byte AMD64 CONTEXT that lldb, Breakpad and
// rust-minidump read.
#pragma once

#include "minidump/minidump_format.h"
#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

// ContextFlags is kContextFull when the FXSAVE area is known, else without kContextFloatingPoint.
ContextAmd64 context_from_registers(const ThreadRegisters& regs);

}  // namespace dumpscope::minidump
