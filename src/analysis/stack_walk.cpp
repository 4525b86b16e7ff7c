#include "analysis/stack_walk.h"

#include "analysis/symbolizer.h"

namespace dumpscope::analysis {

ThreadStack walk_thread(DwflSession& session, const Thread& thread, const UnwindLimits& limits) {
    return walk_registers(session, thread, thread.regs.gp, limits);
}

ThreadStack walk_registers(DwflSession& session, const Thread& thread,
                           const X86GeneralRegisters& regs, const UnwindLimits& limits) {
    ThreadStack stack;
    stack.tid = thread.tid;
    stack.name = thread.name;
    stack.frames = unwind_thread(session, regs, thread.stack_start, thread.stack_end, limits);
    for (Frame& frame : stack.frames) symbolize(session, frame);
    return stack;
}

std::vector<ThreadStack> walk_all_threads(DwflSession& session, const UnwindLimits& limits) {
    std::vector<ThreadStack> stacks;
    for (const Thread& thread : session.snapshot().threads) {
        stacks.push_back(walk_thread(session, thread, limits));
    }
    return stacks;
}

}  // namespace dumpscope::analysis
