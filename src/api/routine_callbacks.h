// The plan's callbacks (plan/plan_callbacks.h) as calls of a MiniDumpWriteDump-style routine:
// builds each dumpscope_callback_input, presets the output as Windows does and reads the answer.
// The routine is the caller's own (a dump of another process, in-process) or a remote one
// (the helper asking the library over its socket, src/handler/).
#pragma once

#include <dumpscope/dumpscope.h>

#include <functional>
#include <string>

#include "plan/plan_callbacks.h"
#include "snapshot/cpu_context.h"

namespace dumpscope {

// Calls the routine: its return value, or an error when it could not be called (the helper's
// socket closed), which cancels the dump.
using RoutineCall =
    std::function<Result<bool>(const dumpscope_callback_input&, dumpscope_callback_output&)>;

class RoutineCallbacks : public PlanCallbacks {
public:
    RoutineCallbacks(int32_t pid, RoutineCall call) : pid_(pid), call_(std::move(call)) {}

    bool include_thread(const Thread& thread) override;
    bool include_module(const Module& module) override;
    uint32_t module_flags(const Module& module, uint32_t flags) override;
    uint32_t thread_flags(const Thread& thread, MemoryRange stack, uint32_t flags) override;
    std::optional<MemoryRange> more_memory() override;
    CancelAnswer check_cancel() override;

    // Why the routine could not be called ("" if it always could).
    const std::string& failure() const { return failure_; }

private:
    bool call(dumpscope_callback_input& input, dumpscope_callback_output& output);

    int32_t pid_;
    RoutineCall call_;
    bool stopped_asking_ = false;
    std::string failure_;
};

// The integer registers of a context, as the routine sees them (x86-64; zeros otherwise).
dumpscope_context to_routine_context(const CpuContext& context);

}  // namespace dumpscope
