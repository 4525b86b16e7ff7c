// The ELF header of a core file: written by the core writer, and handed to libdwfl by the
// unwinder, which attaches a snapshot's threads to an ELF "core" of this architecture.
#pragma once

#include <elf.h>

#include <cstdint>

namespace dumpscope {

// The ELF header of an x86-64 core with `phnum` program headers right after it; `shoff` != 0:
// extended numbering (PN_XNUM), the real count in section header 0 at that offset.
Elf64_Ehdr core_elf_header(uint64_t phnum, uint64_t shoff);

}  // namespace dumpscope
