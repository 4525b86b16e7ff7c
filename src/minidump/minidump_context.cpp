#include "minidump/minidump_context.h"

#include <cstring>

namespace dumpscope::minidump {

namespace {

constexpr size_t kFxsaveMxcsrOffset = 24;  // MXCSR in the FXSAVE area

}  // namespace

ContextAmd64 context_from_registers(const ThreadRegisters& regs) {
    ContextAmd64 context{};
    const X86GeneralRegisters& gp = regs.gp;
    context.context_flags =
        regs.has_fpregs ? kContextFull : (kContextFull & ~kContextFloatingPoint);
    context.seg_cs = static_cast<uint16_t>(gp.cs);
    context.seg_ds = static_cast<uint16_t>(gp.ds);
    context.seg_es = static_cast<uint16_t>(gp.es);
    context.seg_fs = static_cast<uint16_t>(gp.fs);
    context.seg_gs = static_cast<uint16_t>(gp.gs);
    context.seg_ss = static_cast<uint16_t>(gp.ss);
    context.eflags = static_cast<uint32_t>(gp.eflags);
    context.rax = gp.rax;
    context.rcx = gp.rcx;
    context.rdx = gp.rdx;
    context.rbx = gp.rbx;
    context.rsp = gp.rsp;
    context.rbp = gp.rbp;
    context.rsi = gp.rsi;
    context.rdi = gp.rdi;
    context.r8 = gp.r8;
    context.r9 = gp.r9;
    context.r10 = gp.r10;
    context.r11 = gp.r11;
    context.r12 = gp.r12;
    context.r13 = gp.r13;
    context.r14 = gp.r14;
    context.r15 = gp.r15;
    context.rip = gp.rip;
    if (regs.has_fpregs) {
        static_assert(sizeof(context.flt_save) == sizeof(regs.fxsave));
        std::memcpy(context.flt_save, regs.fxsave.data(), sizeof(context.flt_save));
        uint32_t mxcsr = 0;
        std::memcpy(&mxcsr, regs.fxsave.data() + kFxsaveMxcsrOffset, sizeof(mxcsr));
        context.mx_csr = mxcsr;
    }
    return context;
}

}  // namespace dumpscope::minidump
