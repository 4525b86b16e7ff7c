// One thread's registers as one value: a CPU context tagged with its architecture. Plain data;
// what the registers mean (names, the minidump CONTEXT, ELF notes, DWARF numbers) is in the
// architecture's file under arch/. Code outside arch/ reaches the registers through pc(), sp(),
// frame() and tls(), or through arch/ (live/ ptrace code may name the kernel's structures).
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace dumpscope {

enum class Architecture : uint8_t {
    kNone,  // no registers known
    kX86_64,
};

// Same layout as the kernel's struct user_regs_struct / elf_gregset_t on x86-64.
struct X86GeneralRegisters {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
    uint64_t fs_base, gs_base, ds, es, fs, gs;
};
static_assert(sizeof(X86GeneralRegisters) == 216);

// The x86-64 register sets as the kernel hands them out (PTRACE_GETREGSET, core notes).
struct X86_64Registers {
    static constexpr Architecture kArchitecture = Architecture::kX86_64;
    X86GeneralRegisters gp{};           // NT_PRSTATUS
    bool has_fpregs = false;            // fxsave holds the FXSAVE area
    std::array<uint8_t, 512> fxsave{};  // user_fpregs_struct, NT_PRFPREG
    std::vector<uint8_t> xsave;         // the whole XSAVE area (NT_X86_XSTATE), empty if unknown

    uint64_t pc() const { return gp.rip; }
    uint64_t sp() const { return gp.rsp; }
    uint64_t frame() const { return gp.rbp; }
    uint64_t tls() const { return gp.fs_base; }
    void set_pc(uint64_t v) { gp.rip = v; }
    void set_sp(uint64_t v) { gp.rsp = v; }
    void set_frame(uint64_t v) { gp.rbp = v; }
};

class CpuContext {
public:
    CpuContext() = default;
    explicit CpuContext(X86_64Registers regs) : regs_(std::move(regs)) {}
    // A context of `arch` with every register 0.
    static CpuContext zeroed(Architecture arch);

    Architecture architecture() const;
    bool empty() const { return architecture() == Architecture::kNone; }

    // 0 when there are no registers.
    uint64_t pc() const;
    uint64_t sp() const;
    uint64_t frame() const;  // the frame pointer (rbp, x29)
    uint64_t tls() const;    // the thread pointer (fs_base, tpidr_el0)
    // No effect on an empty context.
    void set_pc(uint64_t value);
    void set_sp(uint64_t value);
    void set_frame(uint64_t value);

    // The registers of one architecture: null if the context is of another (or empty).
    const X86_64Registers* x86_64() const { return std::get_if<X86_64Registers>(&regs_); }
    // Makes the context x86-64 (zeroed) unless it is already, and returns its registers.
    X86_64Registers& edit_x86_64();

private:
    std::variant<std::monostate, X86_64Registers> regs_;
};

}  // namespace dumpscope
