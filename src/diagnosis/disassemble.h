// The faulting instruction, disassembled with capstone (x86-64): its text, whether it calls or
// jumps, reads or writes memory, and the address its memory operand names given the registers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "snapshot/snapshot.h"

namespace dumpscope::diagnosis {

struct Instruction {
    uint64_t address = 0;
    std::string text;  // "mov eax, dword ptr [rax]"
    bool is_call = false;
    bool is_jump = false;
    bool is_divide = false;
    bool has_memory_operand = false;
    bool reads_memory = false;
    bool writes_memory = false;
    std::optional<uint64_t> memory_address;  // base + index * scale + disp, when all are known
};

// Disassembles the instruction at `rip` from the dump's memory; nullopt when its bytes are not
// in the dump or are not an instruction.
std::optional<Instruction> disassemble_at(const Snapshot& snapshot, uint64_t rip,
                                          const X86GeneralRegisters& regs);

}  // namespace dumpscope::diagnosis
