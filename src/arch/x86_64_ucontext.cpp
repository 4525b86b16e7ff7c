// A signal handler's ucontext_t -> the faulting thread's registers (the crash handler's helper
// reads it from the crashed process, arch/x86_64.h).
#include <sys/ucontext.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "arch/x86_64.h"

namespace dumpscope::arch::x86_64 {

size_t ucontext_size() { return sizeof(ucontext_t); }

std::optional<CpuContext> context_from_ucontext(
    std::span<const uint8_t> uc, const CpuContext& thread,
    const std::function<size_t(uint64_t, std::span<uint8_t>)>& read) {
    if (uc.size() < sizeof(ucontext_t)) return std::nullopt;
    ucontext_t context;
    std::memcpy(&context, uc.data(), sizeof context);
    const greg_t* g = context.uc_mcontext.gregs;
    auto u = [](greg_t v) { return static_cast<uint64_t>(v); };

    CpuContext out =
        thread.x86_64() != nullptr ? thread : CpuContext::zeroed(Architecture::kX86_64);
    X86_64Registers& regs = out.edit_x86_64();
    X86GeneralRegisters& gp = regs.gp;
    gp.r8 = u(g[REG_R8]);
    gp.r9 = u(g[REG_R9]);
    gp.r10 = u(g[REG_R10]);
    gp.r11 = u(g[REG_R11]);
    gp.r12 = u(g[REG_R12]);
    gp.r13 = u(g[REG_R13]);
    gp.r14 = u(g[REG_R14]);
    gp.r15 = u(g[REG_R15]);
    gp.rdi = u(g[REG_RDI]);
    gp.rsi = u(g[REG_RSI]);
    gp.rbp = u(g[REG_RBP]);
    gp.rbx = u(g[REG_RBX]);
    gp.rdx = u(g[REG_RDX]);
    gp.rax = u(g[REG_RAX]);
    gp.rcx = u(g[REG_RCX]);
    gp.rsp = u(g[REG_RSP]);
    gp.rip = u(g[REG_RIP]);
    gp.eflags = u(g[REG_EFL]);
    // CSGSFS: cs, gs, fs and (since Linux 4.8, with UC_SIGCONTEXT_SS) ss, 16 bits each.
    const uint64_t segments = u(g[REG_CSGSFS]);
    gp.cs = segments & 0xffff;
    gp.orig_rax = ~uint64_t{0};  // not in a system call at the fault

    // The FPU state the kernel saved in the signal frame: FXSAVE, then XSAVE when present.
    const auto fpregs = reinterpret_cast<uint64_t>(context.uc_mcontext.fpregs);
    if (fpregs != 0 && read) {
        std::vector<uint8_t> area(std::max(regs.xsave.size(), kFxsaveSize));
        const size_t got = read(fpregs, area);
        if (got >= kFxsaveSize) {
            std::memcpy(regs.fxsave.data(), area.data(), kFxsaveSize);
            regs.has_fpregs = true;
            if (!regs.xsave.empty() && got >= regs.xsave.size())
                regs.xsave = std::move(area);
            else if (!regs.xsave.empty())
                std::memcpy(regs.xsave.data(), area.data(), kFxsaveSize);
        }
    }
    return out;
}

}  // namespace dumpscope::arch::x86_64
