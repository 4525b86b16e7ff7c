// What a thread's registers mean, for every architecture dumpscope knows: the minidump CONTEXT,
// the ELF core notes, DWARF register numbers, register names and the system call a thread is in.
// Each architecture is one file (arch/x86_64.cpp) that fills one ArchOps; the functions below pick
// the table of a context's architecture. Code above this layer never names a register.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope::arch {

// A general register as `dumpscope registers` and WinDbg's `r` print it.
struct NamedRegister {
    const char* name;            // "rax", "efl"
    const char* alias;           // another name accepted on input ("rflags"), or null
    const char* stackwalk_name;  // its name in minidump-stackwalk's JSON, null if not listed
    uint64_t value;
};

// A vector register (xmm, ymm): its bytes, least significant first.
struct VectorRegister {
    std::string name;  // "ymm8"
    std::vector<uint8_t> bytes;
};

// One thread's registers in a minidump: the CONTEXT record (and anything the architecture
// appends to it), MINIDUMP_THREAD.Teb and dumpscope's DumpscopeThreadExtra entry.
struct MinidumpRegisters {
    std::vector<uint8_t> context;
    uint64_t teb = 0;
    bool has_thread_pointers = false;  // DumpscopeThreadExtra's base registers are known
    uint64_t thread_pointer = 0;
    uint64_t thread_pointer2 = 0;  // the second base register (gs_base), 0 if none
    bool has_syscall = false;      // DumpscopeThreadExtra's system call number is known
    int64_t syscall_number = -1;
};

// A register note of an ELF core besides NT_PRSTATUS (NT_PRFPREG, NT_X86_XSTATE, ...).
struct ElfRegisterNote {
    std::string_view owner;  // "CORE", "LINUX"
    uint32_t type;
    std::vector<uint8_t> desc;
};

struct ArchOps {
    Architecture architecture;
    const char* name;             // "x86-64"
    uint16_t elf_machine;         // EM_X86_64
    uint16_t minidump_processor;  // SystemInfo ProcessorArchitecture
    size_t elf_gregset_size;      // NT_PRSTATUS pr_reg

    MinidumpRegisters (*to_minidump)(const CpuContext&);
    Result<CpuContext> (*from_minidump)(const MinidumpRegisters&, std::string_view what);

    std::vector<uint8_t> (*to_elf_gregset)(const CpuContext&);
    CpuContext (*from_elf_gregset)(std::span<const uint8_t> gregset);
    std::vector<ElfRegisterNote> (*elf_register_notes)(const CpuContext&);
    // Adds a register note of a core to the thread's context: true if the note was one of the
    // architecture's, an error if it was but is malformed.
    Result<bool> (*read_elf_register_note)(CpuContext&, std::string_view owner, uint32_t type,
                                           std::span<const uint8_t> desc);

    // Registers 0 .. n-1 in DWARF numbering, and the numbers of the stack and frame pointers.
    std::vector<uint64_t> (*dwarf_registers)(const CpuContext&);
    unsigned dwarf_sp;
    unsigned dwarf_frame;

    std::vector<NamedRegister> (*general_registers)(const CpuContext&);
    // The vector registers the saved state holds (none when it holds no vector state).
    std::vector<VectorRegister> (*vector_registers)(const CpuContext&);
    std::string (*registers_text)(const CpuContext&);  // WinDbg's `r` layout
    SyscallState (*syscall)(const CpuContext&);        // from the saved registers
};

// The table of an architecture, null for Architecture::kNone.
const ArchOps* ops(Architecture architecture);
const ArchOps* ops_for_elf_machine(uint16_t machine);
const ArchOps* ops_for_minidump_processor(uint16_t processor);

// The table of a context's architecture; for a context without registers the first table
// (x86-64), whose records for it are then all zeros.
const ArchOps& ops_or_first(const CpuContext& context);

// The table of a context's architecture; an error naming `what` for an empty context.
Result<const ArchOps*> ops_of(const CpuContext& context, std::string_view what);

// Convenience wrappers: an empty context has no registers (empty lists, no system call).
std::vector<NamedRegister> general_registers(const CpuContext& context);
std::vector<VectorRegister> vector_registers(const CpuContext& context);
std::string registers_text(const CpuContext& context);
SyscallState syscall_from_context(const CpuContext& context);

}  // namespace dumpscope::arch
