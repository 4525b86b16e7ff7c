// The last resort of unwinding: the next return address found by scanning stack words, as
// Breakpad's and rust-minidump's stack walkers do.
#pragma once

#include <cstdint>
#include <optional>

#include "analysis/dwfl_session.h"

namespace dumpscope::analysis {

struct ScanHit {
    uint64_t slot = 0;  // where the return address lies
    uint64_t return_address = 0;
};

// The first word in [from, limit) (8-aligned) that points into executable code of a module and
// follows a call instruction (when the code bytes are in the dump; else any address in the
// module's executable mappings).
std::optional<ScanHit> scan_for_return_address(const DwflSession& session, uint64_t from,
                                               uint64_t limit);

// True if the bytes before `address` end with a call instruction (E8 rel32, FF /2 forms).
// Unknown (bytes not in the dump) counts as true.
bool follows_call(const DwflSession& session, uint64_t address);

}  // namespace dumpscope::analysis
