#include "api/routine_callbacks.h"

#include <cstring>

namespace dumpscope {

namespace {

constexpr uint32_t kAllThreadFlags = ThreadWriteThread | ThreadWriteStack | ThreadWriteContext |
                                     ThreadWriteInstructionWindow | ThreadWriteThreadData |
                                     ThreadWriteThreadInfo;
constexpr uint32_t kAllModuleFlags = ModuleWriteModule | ModuleWriteDataSeg |
                                     ModuleWriteMiscRecord | ModuleWriteCvRecord |
                                     ModuleReferencedByMemory | ModuleWriteCodeSegs;

static_assert(uint32_t{ModuleWriteModule} == module_write::Module &&
              uint32_t{ModuleWriteDataSeg} == module_write::DataSeg &&
              uint32_t{ModuleWriteCodeSegs} == module_write::CodeSegs &&
              uint32_t{ModuleReferencedByMemory} == module_write::ReferencedByMemory);
static_assert(uint32_t{ThreadWriteThread} == thread_write::Thread &&
              uint32_t{ThreadWriteStack} == thread_write::Stack &&
              uint32_t{ThreadWriteInstructionWindow} == thread_write::InstructionWindow &&
              uint32_t{ThreadWriteThreadData} == thread_write::ThreadData);

dumpscope_callback_input input_of(int32_t pid, uint32_t type) {
    dumpscope_callback_input input;
    std::memset(&input, 0, sizeof input);
    input.ProcessId = pid;
    input.CallbackType = type;
    return input;
}

dumpscope_callback_output empty_output() {
    dumpscope_callback_output output;
    std::memset(&output, 0, sizeof output);
    return output;
}

}  // namespace

dumpscope_context to_routine_context(const CpuContext& context) {
    dumpscope_context c;
    std::memset(&c, 0, sizeof c);
    const X86_64Registers* x = context.x86_64();
    if (x == nullptr) return c;
    const X86GeneralRegisters& g = x->gp;
    c.Rax = g.rax, c.Rcx = g.rcx, c.Rdx = g.rdx, c.Rbx = g.rbx;
    c.Rsp = g.rsp, c.Rbp = g.rbp, c.Rsi = g.rsi, c.Rdi = g.rdi;
    c.R8 = g.r8, c.R9 = g.r9, c.R10 = g.r10, c.R11 = g.r11;
    c.R12 = g.r12, c.R13 = g.r13, c.R14 = g.r14, c.R15 = g.r15;
    c.Rip = g.rip;
    c.EFlags = g.eflags;
    c.FsBase = g.fs_base;
    c.GsBase = g.gs_base;
    c.SegCs = static_cast<uint16_t>(g.cs), c.SegDs = static_cast<uint16_t>(g.ds);
    c.SegEs = static_cast<uint16_t>(g.es), c.SegFs = static_cast<uint16_t>(g.fs);
    c.SegGs = static_cast<uint16_t>(g.gs), c.SegSs = static_cast<uint16_t>(g.ss);
    return c;
}

bool RoutineCallbacks::call(dumpscope_callback_input& input, dumpscope_callback_output& output) {
    if (!failure_.empty()) return false;
    auto answer = call_(input, output);
    if (!answer.ok()) {
        failure_ = answer.error().message;
        return false;
    }
    return *answer;
}

bool RoutineCallbacks::include_thread(const Thread& thread) {
    auto input = input_of(pid_, IncludeThreadCallback);
    input.IncludeThread.ThreadId = static_cast<uint32_t>(thread.tid);
    auto output = empty_output();
    output.ThreadWriteFlags = kAllThreadFlags;
    return call(input, output) && output.ThreadWriteFlags != 0;
}

bool RoutineCallbacks::include_module(const Module& module) {
    auto input = input_of(pid_, IncludeModuleCallback);
    input.IncludeModule.BaseOfImage = module.base;
    auto output = empty_output();
    output.ModuleWriteFlags = kAllModuleFlags;
    return call(input, output) && output.ModuleWriteFlags != 0;
}

uint32_t RoutineCallbacks::module_flags(const Module& module, uint32_t flags) {
    auto input = input_of(pid_, ModuleCallback);
    input.Module.FullPath = module.path.c_str();
    input.Module.BaseOfImage = module.base;
    input.Module.SizeOfImage = static_cast<uint32_t>(std::min<uint64_t>(module.size(), UINT32_MAX));
    input.Module.BuildId = module.build_id.empty() ? nullptr : module.build_id.data();
    input.Module.BuildIdSize = static_cast<uint32_t>(module.build_id.size());
    auto output = empty_output();
    output.ModuleWriteFlags = flags;
    return call(input, output) ? output.ModuleWriteFlags : 0;
}

uint32_t RoutineCallbacks::thread_flags(const Thread& thread, MemoryRange stack, uint32_t flags) {
    auto input = input_of(pid_, ThreadCallback);
    input.Thread.ThreadId = static_cast<uint32_t>(thread.tid);
    input.Thread.Context = to_routine_context(thread.regs);
    input.Thread.SizeOfContext = sizeof(dumpscope_context);
    input.Thread.StackBase = stack.start;
    input.Thread.StackEnd = stack.end();
    auto output = empty_output();
    output.ThreadWriteFlags = flags;
    return call(input, output) ? output.ThreadWriteFlags : 0;
}

std::optional<MemoryRange> RoutineCallbacks::more_memory() {
    auto input = input_of(pid_, MemoryCallback);
    auto output = empty_output();
    if (!call(input, output) || output.MemorySize == 0) return std::nullopt;
    return MemoryRange{output.MemoryBase, output.MemorySize};
}

CancelAnswer RoutineCallbacks::check_cancel() {
    if (!failure_.empty()) return CancelAnswer::kCancel;
    if (stopped_asking_) return CancelAnswer::kContinue;
    auto input = input_of(pid_, CancelCallback);
    auto output = empty_output();
    call(input, output);
    if (!failure_.empty() || output.Cancel != 0) return CancelAnswer::kCancel;
    if (output.CheckCancel == 0) {
        stopped_asking_ = true;
        return CancelAnswer::kStopAsking;
    }
    return CancelAnswer::kContinue;
}

}  // namespace dumpscope
