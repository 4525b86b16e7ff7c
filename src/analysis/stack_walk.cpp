#include "analysis/stack_walk.h"

#include "analysis/symbolizer.h"
#include "snapshot/dump_completion.h"

namespace dumpscope::analysis {

namespace {
constexpr uint64_t kAuxvEntry = 9;  // AT_ENTRY
}  // namespace

ThreadStack walk_thread(DwflSession& session, const Thread& thread, const UnwindLimits& limits) {
    return walk_registers(session, thread, thread.regs, limits);
}

ThreadStack walk_registers(DwflSession& session, const Thread& thread, const CpuContext& regs,
                           const UnwindLimits& limits) {
    ThreadStack stack;
    stack.tid = thread.tid;
    stack.name = thread.name;
    UnwindLimits with_entry = limits;
    if (auto entry = auxv_value(session.snapshot().process.auxv, kAuxvEntry)) {
        with_entry.entry_point = *entry;
    }
    stack.frames = unwind_thread(session, regs, thread.stack_start, thread.stack_end, with_entry,
                                 &stack.truncated);
    for (Frame& frame : stack.frames) symbolize(session, frame);
    return stack;
}

}  // namespace dumpscope::analysis
