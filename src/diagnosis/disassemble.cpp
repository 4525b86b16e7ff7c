#include "diagnosis/disassemble.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <array>
#include <string>
#include <vector>

#include "arch/arch.h"

namespace dumpscope::diagnosis {

namespace {

constexpr size_t kLongestInstruction = 15;

// The value of a register capstone names in a memory operand, from the saved registers by name
// (the architecture's table, arch/); a 32-bit name ("eax") reads the low half of its 64-bit
// register. rip-relative operands use the next instruction's address.
std::optional<uint64_t> register_value(csh handle, x86_reg reg,
                                       const std::vector<arch::NamedRegister>& registers,
                                       uint64_t next_rip) {
    if (reg == X86_REG_INVALID) return 0;
    if (reg == X86_REG_RIP) return next_rip;
    const char* found = cs_reg_name(handle, reg);
    if (found == nullptr) return std::nullopt;
    std::string name = found;
    uint64_t mask = ~uint64_t{0};
    if (name.size() == 3 && name[0] == 'e') {
        name[0] = 'r';
        mask = 0xffffffff;
    }
    for (const arch::NamedRegister& r : registers) {
        if (name == r.name) return r.value & mask;
    }
    return std::nullopt;
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

std::optional<Instruction> disassemble_at(const Snapshot& snapshot, const CpuContext& context) {
    // capstone is opened for x86-64: other architectures' instructions are not decoded.
    if (!snapshot.memory || context.architecture() != Architecture::kX86_64) return std::nullopt;
    const uint64_t rip = context.pc();
    const std::vector<arch::NamedRegister> regs = arch::general_registers(context);
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
            auto base = register_value(cs.handle, static_cast<x86_reg>(op.mem.base), regs, next);
            auto index = register_value(cs.handle, static_cast<x86_reg>(op.mem.index), regs, next);
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
