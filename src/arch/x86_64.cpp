#include "arch/x86_64.h"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace dumpscope::arch::x86_64 {

namespace {

// The general registers end with rip: shorter contexts cannot say where a thread is.
constexpr size_t kMinContextSize = offsetof(ContextAmd64, rip) + sizeof(uint64_t);
constexpr size_t kFxsaveEnd = offsetof(ContextAmd64, flt_save) + sizeof(ContextAmd64::flt_save);

const X86_64Registers& regs_of(const CpuContext& context) {
    static const X86_64Registers kNone{};
    const X86_64Registers* regs = context.x86_64();
    return regs != nullptr ? *regs : kNone;
}

// The printing order of `dumpscope registers` and the JSON names.
struct RegisterField {
    const char* name;
    const char* alias;
    const char* stackwalk_name;
    uint64_t X86GeneralRegisters::*field;
};

constexpr RegisterField kRegisterFields[] = {
    {"rax", nullptr, "rax", &X86GeneralRegisters::rax},
    {"rbx", nullptr, "rbx", &X86GeneralRegisters::rbx},
    {"rcx", nullptr, "rcx", &X86GeneralRegisters::rcx},
    {"rdx", nullptr, "rdx", &X86GeneralRegisters::rdx},
    {"rsi", nullptr, "rsi", &X86GeneralRegisters::rsi},
    {"rdi", nullptr, "rdi", &X86GeneralRegisters::rdi},
    {"rip", nullptr, "rip", &X86GeneralRegisters::rip},
    {"rsp", nullptr, "rsp", &X86GeneralRegisters::rsp},
    {"rbp", nullptr, "rbp", &X86GeneralRegisters::rbp},
    {"r8", nullptr, "r8", &X86GeneralRegisters::r8},
    {"r9", nullptr, "r9", &X86GeneralRegisters::r9},
    {"r10", nullptr, "r10", &X86GeneralRegisters::r10},
    {"r11", nullptr, "r11", &X86GeneralRegisters::r11},
    {"r12", nullptr, "r12", &X86GeneralRegisters::r12},
    {"r13", nullptr, "r13", &X86GeneralRegisters::r13},
    {"r14", nullptr, "r14", &X86GeneralRegisters::r14},
    {"r15", nullptr, "r15", &X86GeneralRegisters::r15},
    {"efl", "rflags", "rflags", &X86GeneralRegisters::eflags},
    {"cs", nullptr, nullptr, &X86GeneralRegisters::cs},
    {"ss", nullptr, nullptr, &X86GeneralRegisters::ss},
    {"ds", nullptr, nullptr, &X86GeneralRegisters::ds},
    {"es", nullptr, nullptr, &X86GeneralRegisters::es},
    {"fs", nullptr, nullptr, &X86GeneralRegisters::fs},
    {"gs", nullptr, nullptr, &X86GeneralRegisters::gs},
    {"fs_base", nullptr, nullptr, &X86GeneralRegisters::fs_base},
    {"gs_base", nullptr, nullptr, &X86GeneralRegisters::gs_base},
    {"orig_rax", nullptr, nullptr, &X86GeneralRegisters::orig_rax},
};

// An XSAVE area as the kernel hands it out: the legacy area and at least the header.
bool has_xsave_header(const X86_64Registers& regs) {
    return regs.has_fpregs && regs.xsave.size() >= kFxsaveSize + kXsaveHeaderSize;
}

// The extended context after the CONTEXT (docs/streams.md): CONTEXT_EX, zeros up to
// kXstateChunkOffset, then the XSAVE area from its header on.
void append_xstate(const X86_64Registers& regs, std::vector<uint8_t>& context) {
    const size_t chunk = regs.xsave.size() - kFxsaveSize;
    const size_t total = kXstateChunkOffset + chunk;
    ContextEx ex{};
    const auto legacy = static_cast<int32_t>(sizeof(ContextAmd64));
    ex.all = {-legacy, static_cast<uint32_t>(total)};
    ex.legacy = {-legacy, static_cast<uint32_t>(sizeof(ContextAmd64))};
    ex.xstate = {static_cast<int32_t>(kXstateChunkOffset) - legacy, static_cast<uint32_t>(chunk)};
    context.resize(total, 0);
    std::memcpy(context.data() + sizeof(ContextAmd64), &ex, sizeof(ex));
    std::memcpy(context.data() + kXstateChunkOffset, regs.xsave.data() + kFxsaveSize, chunk);
}

// The XSAVE area of an extended context: FltSave followed by the CONTEXT_EX's xstate chunk.
Result<std::vector<uint8_t>> read_xstate(std::span<const uint8_t> bytes, const ContextAmd64& c,
                                         std::string_view what) {
    if (bytes.size() < sizeof(ContextAmd64) + sizeof(ContextEx)) {
        return Error{
            fmt::format("{} says CONTEXT_XSTATE but has {} bytes, too few for a "
                        "CONTEXT_EX at {}",
                        what, bytes.size(), sizeof(ContextAmd64))};
    }
    ContextEx ex;
    std::memcpy(&ex, bytes.data() + sizeof(ContextAmd64), sizeof(ex));
    const int64_t start = int64_t{sizeof(ContextAmd64)} + ex.xstate.offset;
    if (start < 0 || ex.xstate.size < kXsaveHeaderSize ||
        static_cast<uint64_t>(start) + ex.xstate.size > bytes.size()) {
        return Error{
            fmt::format("{}: the CONTEXT_EX's xstate chunk (offset {}, {} bytes) is not "
                        "within the context's {} bytes",
                        what, ex.xstate.offset, ex.xstate.size, bytes.size())};
    }
    std::vector<uint8_t> xsave(c.flt_save, c.flt_save + sizeof(c.flt_save));
    const auto chunk = bytes.subspan(static_cast<size_t>(start), ex.xstate.size);
    xsave.insert(xsave.end(), chunk.begin(), chunk.end());
    return xsave;
}

MinidumpRegisters to_minidump(const CpuContext& context) {
    const X86_64Registers& regs = regs_of(context);
    MinidumpRegisters out;
    ContextAmd64 record = to_context_amd64(context);
    const bool extended = has_xsave_header(regs);
    if (extended) record.context_flags |= kContextXstate;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&record);
    out.context.assign(bytes, bytes + sizeof(record));
    if (extended) append_xstate(regs, out.context);
    out.teb = regs.gp.fs_base;  // Linux writers store the thread pointer there
    out.thread_pointer = regs.gp.fs_base;
    out.thread_pointer2 = regs.gp.gs_base;
    return out;
}

Result<CpuContext> from_minidump(const MinidumpRegisters& in, std::string_view what) {
    const std::vector<uint8_t>& bytes = in.context;
    if (bytes.size() < kMinContextSize) {
        return Error{fmt::format("{} has {} bytes, too few for AMD64 registers (at least {})", what,
                                 bytes.size(), kMinContextSize)};
    }
    ContextAmd64 c{};
    std::memcpy(&c, bytes.data(), std::min(bytes.size(), sizeof(c)));
    if ((c.context_flags & kContextAmd64) == 0) {
        return Error{
            fmt::format("{} is not an AMD64 context (flags {:#x})", what, c.context_flags)};
    }
    X86_64Registers regs;
    X86GeneralRegisters& gp = regs.gp;
    gp.rax = c.rax;
    gp.rcx = c.rcx;
    gp.rdx = c.rdx;
    gp.rbx = c.rbx;
    gp.rsp = c.rsp;
    gp.rbp = c.rbp;
    gp.rsi = c.rsi;
    gp.rdi = c.rdi;
    gp.r8 = c.r8;
    gp.r9 = c.r9;
    gp.r10 = c.r10;
    gp.r11 = c.r11;
    gp.r12 = c.r12;
    gp.r13 = c.r13;
    gp.r14 = c.r14;
    gp.r15 = c.r15;
    gp.rip = c.rip;
    gp.eflags = c.eflags;
    gp.cs = c.seg_cs;
    gp.ds = c.seg_ds;
    gp.es = c.seg_es;
    gp.fs = c.seg_fs;
    gp.gs = c.seg_gs;
    gp.ss = c.seg_ss;
    if (bytes.size() >= kFxsaveEnd &&
        (c.context_flags & kContextFloatingPoint) == kContextFloatingPoint) {
        std::memcpy(regs.fxsave.data(), c.flt_save, sizeof(c.flt_save));
        regs.has_fpregs = true;
        if ((c.context_flags & (kContextAmd64 | kContextXstate)) ==
            (kContextAmd64 | kContextXstate)) {
            auto xsave = read_xstate(bytes, c, what);
            if (!xsave.ok()) return xsave.error();
            regs.xsave = std::move(*xsave);
        }
    }
    // A CONTEXT has neither orig_rax ("not in a system call" unless known) nor the base
    // registers: those come from the thread's Teb and its DumpscopeThreadExtra entry.
    gp.orig_rax = in.has_syscall ? static_cast<uint64_t>(in.syscall_number) : UINT64_MAX;
    gp.fs_base = in.has_thread_pointers ? in.thread_pointer : in.teb;
    gp.gs_base = in.has_thread_pointers ? in.thread_pointer2 : 0;
    return CpuContext(std::move(regs));
}

std::vector<uint8_t> to_elf_gregset(const CpuContext& context) {
    const X86GeneralRegisters& gp = regs_of(context).gp;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&gp);
    return {bytes, bytes + sizeof(gp)};
}

CpuContext from_elf_gregset(std::span<const uint8_t> gregset) {
    X86_64Registers regs;
    std::memcpy(&regs.gp, gregset.data(), std::min(gregset.size(), sizeof(regs.gp)));
    return CpuContext(std::move(regs));
}

std::vector<ElfRegisterNote> elf_register_notes(const CpuContext& context) {
    const X86_64Registers& regs = regs_of(context);
    std::vector<ElfRegisterNote> notes;
    if (regs.has_fpregs) {
        notes.push_back({"CORE", NT_PRFPREG, {regs.fxsave.begin(), regs.fxsave.end()}});
    }
    if (!regs.xsave.empty()) notes.push_back({"LINUX", NT_X86_XSTATE, regs.xsave});
    return notes;
}

Result<bool> read_elf_register_note(CpuContext& context, std::string_view owner, uint32_t type,
                                    std::span<const uint8_t> desc) {
    if (owner == "CORE" && type == NT_PRFPREG) {
        if (desc.size() < kFxsaveSize) {
            return Error{
                fmt::format("has {} bytes, expected at least {}", desc.size(), kFxsaveSize)};
        }
        X86_64Registers& regs = context.edit_x86_64();
        std::memcpy(regs.fxsave.data(), desc.data(), kFxsaveSize);
        regs.has_fpregs = true;
        return true;
    }
    if (owner == "LINUX" && type == NT_X86_XSTATE) {
        context.edit_x86_64().xsave.assign(desc.begin(), desc.end());
        return true;
    }
    return false;
}

// DWARF numbers 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, then the return address (rip).
std::vector<uint64_t> dwarf_registers(const CpuContext& context) {
    const X86GeneralRegisters& r = regs_of(context).gp;
    return {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
            r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
}

std::vector<NamedRegister> general_registers(const CpuContext& context) {
    const X86GeneralRegisters& gp = regs_of(context).gp;
    std::vector<NamedRegister> out;
    out.reserve(std::size(kRegisterFields));
    for (const RegisterField& f : kRegisterFields) {
        out.push_back({f.name, f.alias, f.stackwalk_name, gp.*f.field});
    }
    return out;
}

uint64_t xstate_bv(const X86_64Registers& regs) {
    uint64_t bv = 0;
    if (regs.xsave.size() >= kFxsaveSize + sizeof(bv)) {
        std::memcpy(&bv, regs.xsave.data() + kFxsaveSize, sizeof(bv));
    }
    return bv;
}

// xmm0..15 from the FXSAVE area; ymm0..15 when the XSAVE area holds the AVX component (its
// upper halves are zero when XSTATE_BV says the component is in its initial state).
std::vector<VectorRegister> vector_registers(const CpuContext& context) {
    const X86_64Registers& regs = regs_of(context);
    std::vector<VectorRegister> out;
    if (!regs.has_fpregs) return out;
    constexpr size_t kLane = 16;
    for (size_t i = 0; i < 16; ++i) {
        const uint8_t* low = regs.fxsave.data() + kFxsaveXmmOffset + i * kLane;
        out.push_back({fmt::format("xmm{}", i), {low, low + kLane}});
    }
    if (regs.xsave.size() < kXsaveAvxOffset + 16 * kLane) return out;
    const bool avx_in_use = (xstate_bv(regs) & kXstateAvx) != 0;
    for (size_t i = 0; i < 16; ++i) {
        std::vector<uint8_t> bytes = out[i].bytes;
        const uint8_t* high = regs.xsave.data() + kXsaveAvxOffset + i * kLane;
        if (avx_in_use) {
            bytes.insert(bytes.end(), high, high + kLane);
        } else {
            bytes.resize(2 * kLane, 0);
        }
        out.push_back({fmt::format("ymm{}", i), std::move(bytes)});
    }
    return out;
}

// WinDbg's layout: three registers a line, then flags and segments.
std::string registers_text(const CpuContext& context) {
    const X86GeneralRegisters& r = regs_of(context).gp;
    std::string out;
    const std::pair<const char*, uint64_t> rows[][3] = {
        {{"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx}},
        {{"rdx", r.rdx}, {"rsi", r.rsi}, {"rdi", r.rdi}},
        {{"rip", r.rip}, {"rsp", r.rsp}, {"rbp", r.rbp}},
        {{" r8", r.r8}, {" r9", r.r9}, {"r10", r.r10}},
        {{"r11", r.r11}, {"r12", r.r12}, {"r13", r.r13}},
    };
    for (const auto& line : rows) {
        out += fmt::format("{}={:016x} {}={:016x} {}={:016x}\n", line[0].first, line[0].second,
                           line[1].first, line[1].second, line[2].first, line[2].second);
    }
    out += fmt::format("r14={:016x} r15={:016x}\n", r.r14, r.r15);
    out += fmt::format("efl={:08x} orig_rax={:016x} fs_base={:016x} gs_base={:016x}\n", r.eflags,
                       r.orig_rax, r.fs_base, r.gs_base);
    out += fmt::format("cs={:04x}  ss={:04x}  ds={:04x}  es={:04x}  fs={:04x}  gs={:04x}\n", r.cs,
                       r.ss, r.ds, r.es, r.fs, r.gs);
    return out;
}

// orig_rax >= 0 means "in a call"; the arguments are in rdi, rsi, rdx, r10, r8, r9.
SyscallState syscall(const CpuContext& context) {
    const X86GeneralRegisters& regs = regs_of(context).gp;
    SyscallState state;
    auto number = static_cast<int64_t>(regs.orig_rax);
    if (context.empty() || number < 0) return state;
    state.in_syscall = true;
    state.number = number;
    state.args = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
    return state;
}

}  // namespace

ContextAmd64 to_context_amd64(const CpuContext& context) {
    const X86_64Registers& regs = regs_of(context);
    const X86GeneralRegisters& gp = regs.gp;
    ContextAmd64 c{};
    c.context_flags = regs.has_fpregs ? kContextFull : (kContextFull & ~kContextFloatingPoint);
    c.seg_cs = static_cast<uint16_t>(gp.cs);
    c.seg_ds = static_cast<uint16_t>(gp.ds);
    c.seg_es = static_cast<uint16_t>(gp.es);
    c.seg_fs = static_cast<uint16_t>(gp.fs);
    c.seg_gs = static_cast<uint16_t>(gp.gs);
    c.seg_ss = static_cast<uint16_t>(gp.ss);
    c.eflags = static_cast<uint32_t>(gp.eflags);
    c.rax = gp.rax;
    c.rcx = gp.rcx;
    c.rdx = gp.rdx;
    c.rbx = gp.rbx;
    c.rsp = gp.rsp;
    c.rbp = gp.rbp;
    c.rsi = gp.rsi;
    c.rdi = gp.rdi;
    c.r8 = gp.r8;
    c.r9 = gp.r9;
    c.r10 = gp.r10;
    c.r11 = gp.r11;
    c.r12 = gp.r12;
    c.r13 = gp.r13;
    c.r14 = gp.r14;
    c.r15 = gp.r15;
    c.rip = gp.rip;
    if (regs.has_fpregs) {
        // With an XSAVE area, its legacy region: the FXSAVE image plus the bytes the kernel keeps
        // in the software-reserved part (464..511: XCR0 and the area's size, which gdb reads
        // from NT_X86_XSTATE and NT_PRFPREG leaves zero), so that the area comes back whole.
        static_assert(sizeof(c.flt_save) == sizeof(regs.fxsave));
        const uint8_t* legacy = has_xsave_header(regs) ? regs.xsave.data() : regs.fxsave.data();
        std::memcpy(c.flt_save, legacy, sizeof(c.flt_save));
        std::memcpy(&c.mx_csr, legacy + kFxsaveMxcsrOffset, sizeof(c.mx_csr));
    }
    return c;
}

const ArchOps kOps = {
    Architecture::kX86_64,
    "x86-64",
    EM_X86_64,
    9,  // PROCESSOR_ARCHITECTURE_AMD64
    sizeof(X86GeneralRegisters),
    &to_minidump,
    &from_minidump,
    &to_elf_gregset,
    &from_elf_gregset,
    &elf_register_notes,
    &read_elf_register_note,
    &dwarf_registers,
    7,  // rsp
    6,  // rbp
    &general_registers,
    &vector_registers,
    &registers_text,
    &syscall,
};

}  // namespace dumpscope::arch::x86_64
