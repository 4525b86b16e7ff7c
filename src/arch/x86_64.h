// x86-64: the register layouts of the minidump CONTEXT (CONTEXT_AMD64), the ELF core notes
// (NT_PRSTATUS's elf_gregset_t, NT_PRFPREG, NT_X86_XSTATE), DWARF numbering and the names and
// printing order of `dumpscope registers`. Everything else reaches these through arch/arch.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "arch/arch.h"

namespace dumpscope::arch::x86_64 {

// CONTEXT_AMD64 ContextFlags.
constexpr uint32_t kContextAmd64 = 0x00100000;
constexpr uint32_t kContextControl = 0x1;        // rip, rsp, rbp, cs, ss, eflags
constexpr uint32_t kContextInteger = 0x2;        // rax ... r15
constexpr uint32_t kContextSegments = 0x4;       // ds, es, fs, gs
constexpr uint32_t kContextFloatingPoint = 0x8;  // FltSave (the FXSAVE area), MxCsr
constexpr uint32_t kContextFull =
    kContextAmd64 | kContextControl | kContextInteger | kContextSegments | kContextFloatingPoint;
// CONTEXT_XSTATE: a CONTEXT_EX follows the CONTEXT and locates the extended (XSAVE) state.
constexpr uint32_t kContextXstate = 0x40;

#pragma pack(push, 4)

// CONTEXT_AMD64 (winnt.h): 1232 bytes, 16-aligned in the file.
struct ContextAmd64 {
    uint64_t p1_home, p2_home, p3_home, p4_home, p5_home, p6_home;
    uint32_t context_flags;
    uint32_t mx_csr;
    uint16_t seg_cs, seg_ds, seg_es, seg_fs, seg_gs, seg_ss;
    uint32_t eflags;
    uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip;
    uint8_t flt_save[512];  // the FXSAVE area (XMM_SAVE_AREA32)
    uint8_t vector_register[26][16];
    uint64_t vector_control;
    uint64_t debug_control;
    uint64_t last_branch_to_rip;
    uint64_t last_branch_from_rip;
    uint64_t last_exception_to_rip;
    uint64_t last_exception_from_rip;
};
static_assert(sizeof(ContextAmd64) == 1232);

// CONTEXT_CHUNK: a part of an extended context; offset is relative to the CONTEXT_EX itself.
struct ContextChunk {
    int32_t offset;
    uint32_t size;
};

// CONTEXT_EX, right after the CONTEXT when ContextFlags has kContextXstate: `all` is the whole
// extended context, `legacy` the CONTEXT, `xstate` the XSAVE area from its 64-byte header on (the
// first 512 bytes of the XSAVE area are the CONTEXT's FltSave).
struct ContextEx {
    ContextChunk all;
    ContextChunk legacy;
    ContextChunk xstate;
};
static_assert(sizeof(ContextEx) == 24);

#pragma pack(pop)

inline constexpr size_t kFxsaveSize = 512;
inline constexpr size_t kFxsaveMxcsrOffset = 24;  // MXCSR in the FXSAVE area
inline constexpr size_t kFxsaveXmmOffset = 160;   // xmm0..15 in the FXSAVE area
inline constexpr size_t kXsaveHeaderSize = 64;    // XSTATE_BV, XCOMP_BV, reserved
inline constexpr size_t kXsaveAvxOffset = 576;    // upper halves of ymm0..15 (component 2)
inline constexpr uint64_t kXstateAvx = 1u << 2;   // XSTATE_BV bit of the AVX component
// Where the XSAVE header goes, from the start of the CONTEXT (as Windows' InitializeContext2
// and Crashpad place it): after the CONTEXT and the CONTEXT_EX.
inline constexpr size_t kXstateChunkOffset = 0x510;

// The CONTEXT of a context (which must be x86-64): ContextFlags is kContextFull when the FXSAVE
// area is known, else without kContextFloatingPoint.
ContextAmd64 to_context_amd64(const CpuContext& context);

extern const ArchOps kOps;

}  // namespace dumpscope::arch::x86_64

namespace dumpscope::arch::x86_64 {

// The registers a signal handler's ucontext_t holds (its bytes, read from the process) over
// `thread`, the same thread's registers as ptrace saw them inside the handler: the general
// registers come from uc_mcontext.gregs (fs_base, gs_base and segments the ucontext lacks stay
// the thread's); the FXSAVE/XSAVE area from what uc_mcontext.fpregs points to, read through
// `read` (address, bytes) -> bytes copied, when it is readable. Nullopt when `uc` is too short.
std::optional<CpuContext> context_from_ucontext(
    std::span<const uint8_t> uc, const CpuContext& thread,
    const std::function<size_t(uint64_t, std::span<uint8_t>)>& read);

// sizeof(ucontext_t) on x86-64 glibc: what to read for context_from_ucontext.
size_t ucontext_size();

}  // namespace dumpscope::arch::x86_64
