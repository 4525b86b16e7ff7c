// Every thread's stack, unwound and symbolized: the model behind `k`, `~*k` and `stack`.
#pragma once

#include <vector>

#include "analysis/dwfl_session.h"
#include "analysis/stack_model.h"
#include "analysis/unwinder.h"

namespace dumpscope::analysis {

// The stack of one thread of the snapshot, from its saved registers.
ThreadStack walk_thread(DwflSession& session, const Thread& thread,
                        const UnwindLimits& limits = {});

// The stack from other registers of a thread (the exception context: `.ecxr`, `k`).
ThreadStack walk_registers(DwflSession& session, const Thread& thread, const CpuContext& regs,
                           const UnwindLimits& limits = {});

}  // namespace dumpscope::analysis
