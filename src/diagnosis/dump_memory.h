// Bounded reads of a dump's memory and the symbols that name addresses in it. Every read is of a
// fixed, small size: the dump is untrusted input, so no length or count read from it sizes a
// read or a loop without a cap.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analysis/dump_analysis.h"
#include "snapshot/snapshot.h"

namespace dumpscope::diagnosis {

std::optional<uint32_t> read_u32(const Snapshot& snapshot, uint64_t addr);
std::optional<uint64_t> read_u64(const Snapshot& snapshot, uint64_t addr);
// Bytes up to the first NUL, at most max_bytes; "" when nothing is readable.
std::string read_text(const Snapshot& snapshot, uint64_t addr, size_t max_bytes);

// The data or function symbol covering addr in its module's symbol table, "name" or
// "name+0x10"; "" without a module, symbols, or a symbol whose extent covers addr.
std::string symbol_at(analysis::DumpAnalysis& dump, uint64_t addr);

// Where addr is when no symbol names it: "heap", "stack of thread 1234", "anonymous memory",
// "libfoo.so data", "unmapped".
std::string region_at(const Snapshot& snapshot, uint64_t addr);

// The address of the symbol `name` in the first module whose file name starts with
// `module_prefix` ("libc.so"), from its symbol tables (.dynsym is enough for exported names).
std::optional<uint64_t> symbol_address(analysis::DumpAnalysis& dump,
                                       const std::string& module_prefix, const std::string& name);

// The thread with this tid, or null.
const Thread* thread_by_tid(const Snapshot& snapshot, int32_t tid);

}  // namespace dumpscope::diagnosis
