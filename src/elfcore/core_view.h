// A validated view of an ELF core file in memory: header, program headers (with PN_XNUM
// extended numbering) and every note of every PT_NOTE. Every offset and size is checked
// against the file before it is touched; malformed input is an Error, never a crash.
#pragma once

#include <elf.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dumpscope::elfcore {

struct CoreNote {
    std::string_view owner;  // the name without its NUL padding: "CORE", "LINUX", ...
    uint32_t type = 0;
    std::span<const uint8_t> desc;
    uint64_t desc_offset = 0;  // file offset of the descriptor
};

struct CoreView {
    uint16_t machine = 0;  // e_machine
    uint8_t osabi = 0;     // e_ident[EI_OSABI]
    std::vector<Elf64_Phdr> segments;
    std::vector<CoreNote> notes;  // in file order
};

// True if the bytes start like an ELF file of type ET_CORE (either class, either byte order).
bool has_elf_core_header(std::span<const uint8_t> start);

// `file` must outlive the view (notes point into it).
Result<CoreView> parse_elf_core(std::span<const uint8_t> file);

}  // namespace dumpscope::elfcore
