// Unwinds one thread of a snapshot: libdwfl first (DWARF CFI from .eh_frame / .debug_frame, then
// its frame-pointer fallback); where that stops before the natural end of the stack, the stack is
// scanned for the next return address and libdwfl continues from there. Each frame says how it
// was found (FrameTrust), like minidump-stackwalk.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/dwfl_session.h"
#include "analysis/stack_model.h"

namespace dumpscope::analysis {

// The most frames a walk goes by default: far more than any real stack (a 2000-deep recursion
// is 2000 frames; an 8 MiB stack of 64-byte frames is 131072), a guard against a walk that
// would never end. A stack cut there says so (ThreadStack::truncated).
inline constexpr size_t kDefaultMaxFrames = 100000;

struct UnwindLimits {
    size_t max_frames = kDefaultMaxFrames;
    size_t scan_words = 512;  // words searched for one return address
    // The program's entry point (AT_ENTRY, 0 if unknown). A frame within kEntryFrameBytes of it
    // is _start, the outermost frame of the main thread: the walk ends there, even where no CFI
    // says so (a module whose file is missing) and stack scanning would go on into argv.
    uint64_t entry_point = 0;
};

inline constexpr uint64_t kEntryFrameBytes = 64;

// Frames of a thread whose registers are `regs` and whose stack is [stack_start, stack_end)
// (0, 0 if unknown: scanning is then limited to scan_words). Frames are not symbolized. At most
// limits.max_frames frames; `truncated` (if given) says whether the stack went on past them.
std::vector<Frame> unwind_thread(DwflSession& session, const CpuContext& regs, uint64_t stack_start,
                                 uint64_t stack_end, const UnwindLimits& limits = {},
                                 bool* truncated = nullptr);

}  // namespace dumpscope::analysis
