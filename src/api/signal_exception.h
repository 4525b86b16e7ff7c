// The Exception of a dump from what a signal handler received (siginfo_t and ucontext_t bytes):
// MiniDumpWriteDump's exception parameter and the crash handler's crash message.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Sets snapshot.exception: thread `tid` (which must be in the snapshot), the signal of
// `siginfo` (128 bytes), the registers of `ucontext` (a whole ucontext_t) over the thread's
// own, the FPU state read through the snapshot's memory.
Status add_signal_exception(Snapshot& snapshot, int32_t tid, std::span<const uint8_t> siginfo,
                            std::span<const uint8_t> ucontext);

// Exactly `size` bytes of the snapshot's memory at `address`; the error names `what`.
Result<std::vector<uint8_t>> read_exact(const Snapshot& snapshot, uint64_t address, size_t size,
                                        const char* what);

}  // namespace dumpscope
