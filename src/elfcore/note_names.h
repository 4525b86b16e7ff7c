// Printable names of ELF core notes and machines, for `dumpscope info`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dumpscope::elfcore {

// "NT_PRSTATUS", "NT_X86_XSTATE", "DUMPSCOPE_CAPTURE", or "<owner> note 0x<type>".
std::string note_type_name(std::string_view owner, uint32_t type);

// "x86_64", "aarch64", ... as uname -m says; "machine <n>" otherwise.
std::string machine_name(uint16_t e_machine);

// The CPU architecture in minidump words: "amd64", "arm64", ... (machine_name otherwise).
std::string cpu_name(uint16_t e_machine);

// "Linux" unless e_ident[EI_OSABI] names another system.
std::string os_name(uint8_t osabi);

}  // namespace dumpscope::elfcore
