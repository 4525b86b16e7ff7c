// What an ELF file on disk can serve as, from its section headers (libelf): debug information
// (a .debug_info section with bytes in the file: a separate .debug file or an unstripped binary)
// and code (an executable section with bytes in the file: a binary, stripped or not; a file made
// by `objcopy --only-keep-debug` keeps its .text as SHT_NOBITS, without code).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope {

struct ElfFileContents {
    uint16_t type = 0;  // e_type: ET_EXEC, ET_DYN, ...
    bool debug_info = false;
    bool code = false;
};

// An error naming the file when it cannot be opened or is not an ELF file.
Result<ElfFileContents> elf_file_contents(const std::string& path);

}  // namespace dumpscope
