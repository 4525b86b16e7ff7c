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

// Disassembles the instruction at the context's pc from the dump's memory, its memory operand
// computed from the context's registers; nullopt when its bytes are not in the dump, are not an
// instruction, or the context is not x86-64.
std::optional<Instruction> disassemble_at(const Snapshot& snapshot, const CpuContext& context);

}  // namespace dumpscope::diagnosis
