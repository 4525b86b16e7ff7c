// x86-64 registers through every format they are written in: CONTEXT_AMD64 (field offsets as
// Windows, Breakpad and LLVM lay them out), the minidump's Teb and DumpscopeThreadExtra parts, the
// ELF gregset and register notes, DWARF numbering, and the system call in the saved registers.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "arch/x86_64.h"

namespace dumpscope::arch {
namespace {

using x86_64::ContextAmd64;

CpuContext sample_registers() {
    X86_64Registers regs;
    regs.gp.rax = 0x1111;
    regs.gp.rbx = 0x2222;
    regs.gp.rdx = 0x3333;
    regs.gp.rsp = 0x7ffc0100;
    regs.gp.rbp = 0x7ffc0180;
    regs.gp.rip = 0x401234;
    regs.gp.r15 = 0xf15;
    regs.gp.eflags = 0x246;
    regs.gp.cs = 0x33;
    regs.gp.ss = 0x2b;
    regs.gp.fs_base = 0x7f0000001000;
    regs.gp.gs_base = 0x7f0000002000;
    regs.gp.orig_rax = 202;
    regs.has_fpregs = true;
    for (size_t i = 0; i < regs.fxsave.size(); ++i) regs.fxsave[i] = static_cast<uint8_t>(i);
    const uint32_t mxcsr = 0x1f80;
    std::memcpy(regs.fxsave.data() + 24, &mxcsr, 4);
    return CpuContext(std::move(regs));
}

TEST(ArchX86_64, ContextAmd64MatchesBreakpadLayout) {
    EXPECT_EQ(sizeof(ContextAmd64), 1232u);
    EXPECT_EQ(offsetof(ContextAmd64, context_flags), 48u);
    EXPECT_EQ(offsetof(ContextAmd64, mx_csr), 52u);
    EXPECT_EQ(offsetof(ContextAmd64, seg_cs), 56u);
    EXPECT_EQ(offsetof(ContextAmd64, seg_ss), 66u);
    EXPECT_EQ(offsetof(ContextAmd64, eflags), 68u);
    EXPECT_EQ(offsetof(ContextAmd64, dr0), 72u);
    EXPECT_EQ(offsetof(ContextAmd64, dr7), 112u);
    EXPECT_EQ(offsetof(ContextAmd64, rax), 120u);
    EXPECT_EQ(offsetof(ContextAmd64, rsp), 152u);
    EXPECT_EQ(offsetof(ContextAmd64, rbp), 160u);
    EXPECT_EQ(offsetof(ContextAmd64, r8), 184u);
    EXPECT_EQ(offsetof(ContextAmd64, r15), 240u);
    EXPECT_EQ(offsetof(ContextAmd64, rip), 248u);
    EXPECT_EQ(offsetof(ContextAmd64, flt_save), 256u);
    EXPECT_EQ(offsetof(ContextAmd64, vector_register), 768u);
    EXPECT_EQ(offsetof(ContextAmd64, vector_control), 1184u);
    EXPECT_EQ(offsetof(ContextAmd64, debug_control), 1192u);
    EXPECT_EQ(offsetof(ContextAmd64, last_exception_from_rip), 1224u);
}

TEST(ArchX86_64, RegistersLandInTheirContextFields) {
    CpuContext regs = sample_registers();
    const ContextAmd64 context = x86_64::to_context_amd64(regs);
    EXPECT_EQ(context.context_flags, 0x0010000fu);
    EXPECT_EQ(context.rax, 0x1111u);
    EXPECT_EQ(context.rbx, 0x2222u);
    EXPECT_EQ(context.rsp, 0x7ffc0100u);
    EXPECT_EQ(context.rip, 0x401234u);
    EXPECT_EQ(context.r15, 0xf15u);
    EXPECT_EQ(context.eflags, 0x246u);
    EXPECT_EQ(context.seg_cs, 0x33);
    EXPECT_EQ(context.seg_ss, 0x2b);
    EXPECT_EQ(context.mx_csr, 0x1f80u);
    EXPECT_EQ(std::memcmp(context.flt_save, regs.x86_64()->fxsave.data(), 512), 0);

    regs.edit_x86_64().has_fpregs = false;
    EXPECT_EQ(x86_64::to_context_amd64(regs).context_flags, 0x00100007u);
}

TEST(ArchX86_64, AccessorsNameThePointerRegisters) {
    const CpuContext regs = sample_registers();
    EXPECT_EQ(regs.architecture(), Architecture::kX86_64);
    EXPECT_EQ(regs.pc(), 0x401234u);
    EXPECT_EQ(regs.sp(), 0x7ffc0100u);
    EXPECT_EQ(regs.frame(), 0x7ffc0180u);
    EXPECT_EQ(regs.tls(), 0x7f0000001000u);
    const CpuContext none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.pc(), 0u);
    EXPECT_EQ(ops(Architecture::kNone), nullptr);
}

TEST(ArchX86_64, OneThreadsMinidumpPartsMakeOneContextAgain) {
    const CpuContext regs = sample_registers();
    const ArchOps* arch = ops_for_minidump_processor(9);
    ASSERT_EQ(arch, &x86_64::kOps);
    MinidumpRegisters parts = arch->to_minidump(regs);
    EXPECT_EQ(parts.context.size(), sizeof(ContextAmd64));
    EXPECT_EQ(parts.teb, 0x7f0000001000u);
    EXPECT_EQ(parts.thread_pointer2, 0x7f0000002000u);
    parts.has_thread_pointers = true;
    parts.has_syscall = true;
    parts.syscall_number = 202;
    auto back = arch->from_minidump(parts, "the test context");
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_NE(back->x86_64(), nullptr);
    EXPECT_EQ(std::memcmp(&back->x86_64()->gp, &regs.x86_64()->gp, sizeof(X86GeneralRegisters)), 0);
    EXPECT_EQ(back->x86_64()->fxsave, regs.x86_64()->fxsave);

    // Without DumpscopeThreadExtra (other writers): the Teb is the thread pointer and nothing
    // says the thread is in a system call.
    parts.has_thread_pointers = false;
    parts.has_syscall = false;
    auto plain = arch->from_minidump(parts, "the test context");
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->tls(), 0x7f0000001000u);
    EXPECT_EQ(plain->x86_64()->gp.gs_base, 0u);
    EXPECT_FALSE(arch->syscall(*plain).in_syscall);

    parts.context.resize(100);
    auto short_context = arch->from_minidump(parts, "the test context");
    ASSERT_FALSE(short_context.ok());
    EXPECT_NE(short_context.error().message.find("the test context has 100 bytes"),
              std::string::npos);
}

// An XSAVE area as a CPU with AVX has it: the FXSAVE image, XSTATE_BV = x87|SSE|AVX, and the
// upper ymm halves at 576.
CpuContext with_avx() {
    CpuContext regs = sample_registers();
    X86_64Registers& r = regs.edit_x86_64();
    r.xsave.assign(832, 0);
    std::copy(r.fxsave.begin(), r.fxsave.end(), r.xsave.begin());
    const uint64_t xcr0 = 0x7;  // Linux keeps XCR0 in the software-reserved bytes at 464
    std::memcpy(r.xsave.data() + 464, &xcr0, sizeof(xcr0));
    const uint64_t xstate_bv = 0x7;
    std::memcpy(r.xsave.data() + 512, &xstate_bv, sizeof(xstate_bv));
    for (size_t i = 576; i < r.xsave.size(); ++i) r.xsave[i] = static_cast<uint8_t>(0x80 + i);
    return regs;
}

TEST(ArchX86_64, TheXsaveAreaIsAWindowsExtendedContext) {
    const CpuContext regs = with_avx();
    const MinidumpRegisters parts = x86_64::kOps.to_minidump(regs);
    ASSERT_EQ(parts.context.size(), 0x510u + 832 - 512);
    uint32_t flags = 0;
    std::memcpy(&flags, parts.context.data() + offsetof(ContextAmd64, context_flags), 4);
    EXPECT_EQ(flags, 0x0010004fu);
    x86_64::ContextEx ex;
    std::memcpy(&ex, parts.context.data() + sizeof(ContextAmd64), sizeof(ex));
    EXPECT_EQ(ex.all.offset, -1232);
    EXPECT_EQ(ex.all.size, parts.context.size());
    EXPECT_EQ(ex.legacy.offset, -1232);
    EXPECT_EQ(ex.legacy.size, 1232u);
    EXPECT_EQ(ex.xstate.offset, 0x510 - 1232);
    EXPECT_EQ(ex.xstate.size, 832u - 512);
    EXPECT_EQ(std::memcmp(parts.context.data() + 0x510, regs.x86_64()->xsave.data() + 512, 320), 0);

    auto back = x86_64::kOps.from_minidump(parts, "the test context");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->x86_64()->xsave, regs.x86_64()->xsave);

    MinidumpRegisters cut = parts;
    cut.context.resize(0x510 + 100);  // the chunk says 320 bytes
    auto bad = x86_64::kOps.from_minidump(cut, "the test context");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("xstate chunk"), std::string::npos) << bad.error().message;
}

TEST(ArchX86_64, YmmRegistersJoinTheXmmAndAvxHalves) {
    const CpuContext regs = with_avx();
    const std::vector<VectorRegister> vectors = vector_registers(regs);
    ASSERT_EQ(vectors.size(), 32u);
    EXPECT_EQ(vectors[8].name, "xmm8");
    EXPECT_EQ(vectors[16 + 8].name, "ymm8");
    const std::vector<uint8_t>& ymm8 = vectors[16 + 8].bytes;
    ASSERT_EQ(ymm8.size(), 32u);
    EXPECT_EQ(std::memcmp(ymm8.data(), regs.x86_64()->fxsave.data() + 160 + 8 * 16, 16), 0);
    EXPECT_EQ(std::memcmp(ymm8.data() + 16, regs.x86_64()->xsave.data() + 576 + 8 * 16, 16), 0);

    CpuContext init = with_avx();  // AVX in its initial state: upper halves are zero
    const uint64_t sse_only = 0x3;
    std::memcpy(init.edit_x86_64().xsave.data() + 512, &sse_only, sizeof(sse_only));
    const std::vector<uint8_t> init_ymm8 = vector_registers(init)[24].bytes;
    EXPECT_EQ(std::vector<uint8_t>(init_ymm8.begin() + 16, init_ymm8.end()),
              std::vector<uint8_t>(16, 0));

    CpuContext no_xsave = sample_registers();
    EXPECT_EQ(vector_registers(no_xsave).size(), 16u) << "xmm only";
}

TEST(ArchX86_64, ElfNotesCarryEveryRegisterSet) {
    CpuContext regs = sample_registers();
    regs.edit_x86_64().xsave.assign(832, 0x5a);
    const ArchOps* arch = ops_for_elf_machine(EM_X86_64);
    ASSERT_EQ(arch, &x86_64::kOps);
    const std::vector<uint8_t> gregset = arch->to_elf_gregset(regs);
    ASSERT_EQ(gregset.size(), arch->elf_gregset_size);
    CpuContext back = arch->from_elf_gregset(gregset);
    for (const ElfRegisterNote& note : arch->elf_register_notes(regs)) {
        auto taken = arch->read_elf_register_note(back, note.owner, note.type, note.desc);
        ASSERT_TRUE(taken.ok() && *taken) << note.type;
    }
    EXPECT_EQ(std::memcmp(&back.x86_64()->gp, &regs.x86_64()->gp, sizeof(X86GeneralRegisters)), 0);
    EXPECT_TRUE(back.x86_64()->has_fpregs);
    EXPECT_EQ(back.x86_64()->fxsave, regs.x86_64()->fxsave);
    EXPECT_EQ(back.x86_64()->xsave, regs.x86_64()->xsave);

    auto not_ours = arch->read_elf_register_note(back, "CORE", NT_AUXV, gregset);
    ASSERT_TRUE(not_ours.ok());
    EXPECT_FALSE(*not_ours);
    const std::vector<uint8_t> short_fp(100);
    EXPECT_FALSE(arch->read_elf_register_note(back, "CORE", NT_PRFPREG, short_fp).ok());
}

TEST(ArchX86_64, DwarfNumberingIsTheSysVAbis) {
    const CpuContext regs = sample_registers();
    const std::vector<uint64_t> dwarf = x86_64::kOps.dwarf_registers(regs);
    ASSERT_EQ(dwarf.size(), 17u);
    EXPECT_EQ(dwarf[0], 0x1111u);  // rax
    EXPECT_EQ(dwarf[1], 0x3333u);  // rdx
    EXPECT_EQ(dwarf[3], 0x2222u);  // rbx
    EXPECT_EQ(dwarf[x86_64::kOps.dwarf_frame], regs.frame());
    EXPECT_EQ(dwarf[x86_64::kOps.dwarf_sp], regs.sp());
    EXPECT_EQ(dwarf[15], 0xf15u);     // r15
    EXPECT_EQ(dwarf[16], regs.pc());  // the return address column
}

TEST(ArchX86_64, ReadsSyscallFromRegisters) {
    CpuContext regs;
    X86GeneralRegisters& gp = regs.edit_x86_64().gp;
    gp.orig_rax = static_cast<uint64_t>(-1);
    EXPECT_FALSE(syscall_from_context(regs).in_syscall);
    gp.orig_rax = 202;
    gp.rdi = 1, gp.rsi = 2, gp.rdx = 3, gp.r10 = 4, gp.r8 = 5, gp.r9 = 6;
    SyscallState state = syscall_from_context(regs);
    EXPECT_TRUE(state.in_syscall);
    EXPECT_EQ(state.number, 202);
    EXPECT_EQ(state.args, (std::array<uint64_t, 6>{1, 2, 3, 4, 5, 6}));
    EXPECT_FALSE(syscall_from_context(CpuContext{}).in_syscall);
}

TEST(ArchX86_64, RegisterNamesAndAliases) {
    const std::vector<NamedRegister> named = general_registers(sample_registers());
    ASSERT_FALSE(named.empty());
    EXPECT_STREQ(named.front().name, "rax");
    const auto efl = std::find_if(named.begin(), named.end(), [](const NamedRegister& r) {
        return r.name == std::string("efl");
    });
    ASSERT_NE(efl, named.end());
    EXPECT_STREQ(efl->alias, "rflags");
    EXPECT_EQ(efl->value, 0x246u);
    EXPECT_NE(registers_text(sample_registers()).find("rip=0000000000401234"), std::string::npos);
}

}  // namespace
}  // namespace dumpscope::arch
