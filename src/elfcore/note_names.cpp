#include "elfcore/note_names.h"

#include <elf.h>
#include <fmt/format.h>

#include <array>

#include "elfcore/core_format.h"

namespace dumpscope::elfcore {

namespace {

struct NoteName {
    std::string_view owner;
    uint32_t type;
    std::string_view name;
};

constexpr uint32_t kNtGdbTdesc = 0xff000000;   // gdb's target description (XML), owner "GDB"
constexpr uint32_t kNtX86Shstk = 0x204;        // shadow stack state (newer than our <elf.h>)
constexpr uint32_t kNtX86XsaveLayout = 0x205;  // the CPU's XSAVE component offsets

constexpr std::array kNoteNames = {
    NoteName{kCoreNoteName, NT_PRSTATUS, "NT_PRSTATUS"},
    NoteName{kCoreNoteName, NT_FPREGSET, "NT_FPREGSET"},
    NoteName{kCoreNoteName, NT_PRPSINFO, "NT_PRPSINFO"},
    NoteName{kCoreNoteName, NT_TASKSTRUCT, "NT_TASKSTRUCT"},
    NoteName{kCoreNoteName, NT_AUXV, "NT_AUXV"},
    NoteName{kCoreNoteName, NT_SIGINFO, "NT_SIGINFO"},
    NoteName{kCoreNoteName, NT_FILE, "NT_FILE"},
    NoteName{kCoreNoteName, NT_PRXFPREG, "NT_PRXFPREG"},
    NoteName{kLinuxNoteName, NT_PRXFPREG, "NT_PRXFPREG"},
    NoteName{kLinuxNoteName, NT_386_TLS, "NT_386_TLS"},
    NoteName{kLinuxNoteName, NT_386_IOPERM, "NT_386_IOPERM"},
    NoteName{kLinuxNoteName, NT_X86_XSTATE, "NT_X86_XSTATE"},
    NoteName{kLinuxNoteName, kNtX86Shstk, "NT_X86_SHSTK"},
    NoteName{kLinuxNoteName, kNtX86XsaveLayout, "NT_X86_XSAVE_LAYOUT"},
    NoteName{kLinuxNoteName, NT_ARM_TLS, "NT_ARM_TLS"},
    NoteName{kLinuxNoteName, NT_ARM_HW_BREAK, "NT_ARM_HW_BREAK"},
    NoteName{kLinuxNoteName, NT_ARM_HW_WATCH, "NT_ARM_HW_WATCH"},
    NoteName{kLinuxNoteName, NT_ARM_SYSTEM_CALL, "NT_ARM_SYSTEM_CALL"},
    NoteName{kLinuxNoteName, NT_ARM_SVE, "NT_ARM_SVE"},
    NoteName{kLinuxNoteName, NT_ARM_PAC_MASK, "NT_ARM_PAC_MASK"},
    NoteName{"GDB", kNtGdbTdesc, "NT_GDB_TDESC"},
    NoteName{kDumpscopeNoteName, kNoteDumpscopeCapture, "DUMPSCOPE_CAPTURE"},
    NoteName{kDumpscopeNoteName, kNoteDumpscopeProcess, "DUMPSCOPE_PROCESS"},
};

}  // namespace

std::string note_type_name(std::string_view owner, uint32_t type) {
    for (const NoteName& n : kNoteNames) {
        if (n.owner == owner && n.type == type) return std::string(n.name);
    }
    if (owner == kUserStreamNoteName) return fmt::format("user stream {:#x}", type);
    return fmt::format("{} note {:#x}", owner.empty() ? "unnamed" : owner, type);
}

std::string machine_name(uint16_t e_machine) {
    switch (e_machine) {
        case EM_X86_64:
            return "x86_64";
        case EM_AARCH64:
            return "aarch64";
        case EM_RISCV:
            return "riscv64";
        case EM_PPC64:
            return "ppc64";
        case EM_S390:
            return "s390x";
        case EM_LOONGARCH:
            return "loongarch64";
        default:
            return fmt::format("machine {}", e_machine);
    }
}

std::string cpu_name(uint16_t e_machine) {
    switch (e_machine) {
        case EM_X86_64:
            return "amd64";
        case EM_AARCH64:
            return "arm64";
        default:
            return machine_name(e_machine);
    }
}

std::string os_name(uint8_t osabi) {
    switch (osabi) {
        case ELFOSABI_FREEBSD:
            return "FreeBSD";
        case ELFOSABI_NETBSD:
            return "NetBSD";
        case ELFOSABI_OPENBSD:
            return "OpenBSD";
        case ELFOSABI_SOLARIS:
            return "Solaris";
        default:
            return "Linux";
    }
}

}  // namespace dumpscope::elfcore
