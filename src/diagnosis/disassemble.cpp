#include "diagnosis/disassemble.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <array>

namespace dumpscope::diagnosis {

namespace {

constexpr size_t kLongestInstruction = 15;

std::optional<uint64_t> register_value(x86_reg reg, const X86GeneralRegisters& r,
                                       uint64_t next_rip) {
    switch (reg) {
        case X86_REG_INVALID:
            return 0;
        case X86_REG_RIP:
            return next_rip;
        case X86_REG_RAX:
            return r.rax;
        case X86_REG_RBX:
            return r.rbx;
        case X86_REG_RCX:
            return r.rcx;
        case X86_REG_RDX:
            return r.rdx;
        case X86_REG_RSI:
            return r.rsi;
        case X86_REG_RDI:
            return r.rdi;
        case X86_REG_RBP:
            return r.rbp;
        case X86_REG_RSP:
            return r.rsp;
        case X86_REG_R8:
            return r.r8;
        case X86_REG_R9:
            return r.r9;
        case X86_REG_R10:
            return r.r10;
        case X86_REG_R11:
            return r.r11;
        case X86_REG_R12:
            return r.r12;
        case X86_REG_R13:
            return r.r13;
        case X86_REG_R14:
            return r.r14;
        case X86_REG_R15:
            return r.r15;
        case X86_REG_EAX:
            return r.rax & 0xffffffff;
        case X86_REG_EBX:
            return r.rbx & 0xffffffff;
        case X86_REG_ECX:
            return r.rcx & 0xffffffff;
        case X86_REG_EDX:
            return r.rdx & 0xffffffff;
        case X86_REG_ESI:
            return r.rsi & 0xffffffff;
        case X86_REG_EDI:
            return r.rdi & 0xffffffff;
        default:
            return std::nullopt;
    }
}

struct CapstoneHandle {
    csh handle = 0;
    bool open = false;
    CapstoneHandle() {
        open = cs_open(CS_ARCH_X86, CS_MODE_64, &handle) == CS_ERR_OK;
        if (open) cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
    }
    ~CapstoneHandle() {
        if (open) cs_close(&handle);
    }
    CapstoneHandle(const CapstoneHandle&) = delete;
    CapstoneHandle& operator=(const CapstoneHandle&) = delete;
};

}  // namespace

std::optional<Instruction> disassemble_at(const Snapshot& snapshot, uint64_t rip,
                                          const X86GeneralRegisters& regs) {
    if (!snapshot.memory) return std::nullopt;
    std::array<uint8_t, kLongestInstruction> bytes{};
    auto got = snapshot.memory->read(rip, bytes);
    if (!got.ok() || *got == 0) return std::nullopt;
    CapstoneHandle cs;
    if (!cs.open) return std::nullopt;
    cs_insn* insn = nullptr;
    const size_t count = cs_disasm(cs.handle, bytes.data(), *got, rip, 1, &insn);
    if (count == 0) return std::nullopt;
    Instruction out;
    out.address = rip;
    out.text = std::string(insn->mnemonic) + (insn->op_str[0] != '\0' ? " " : "") + insn->op_str;
    const cs_detail* detail = insn->detail;
    if (detail != nullptr) {
        for (uint8_t i = 0; i < detail->groups_count; ++i) {
            if (detail->groups[i] == CS_GRP_CALL) out.is_call = true;
            if (detail->groups[i] == CS_GRP_JUMP) out.is_jump = true;
        }
        const cs_x86& x86 = detail->x86;
        for (uint8_t i = 0; i < x86.op_count; ++i) {
            const cs_x86_op& op = x86.operands[i];
            if (op.type != X86_OP_MEM) continue;
            // lea computes an address and touches no memory.
            if (insn->id == X86_INS_LEA || insn->id == X86_INS_NOP) continue;
            out.has_memory_operand = true;
            if ((op.access & CS_AC_READ) != 0) out.reads_memory = true;
            if ((op.access & CS_AC_WRITE) != 0) out.writes_memory = true;
            const uint64_t next = rip + insn->size;
            auto base = register_value(static_cast<x86_reg>(op.mem.base), regs, next);
            auto index = register_value(static_cast<x86_reg>(op.mem.index), regs, next);
            if (base && index && op.mem.segment == X86_REG_INVALID) {
                out.memory_address = *base + *index * static_cast<uint64_t>(op.mem.scale) +
                                     static_cast<uint64_t>(op.mem.disp);
            }
        }
    }
    out.is_divide = insn->id == X86_INS_DIV || insn->id == X86_INS_IDIV;
    cs_free(insn, count);
    return out;
}

}  // namespace dumpscope::diagnosis
