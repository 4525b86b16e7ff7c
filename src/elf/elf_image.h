// An ELF object as it lies in a process's memory: its header and program headers, read
// through a MemorySource, and the load bias that maps its p_vaddr to addresses.
#pragma once

#include <elf.h>

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

struct LoadedElf {
    uint64_t base = 0;  // where the ELF header is mapped
    uint64_t bias = 0;  // address = bias + p_vaddr
    std::vector<Elf64_Phdr> phdrs;

    // Page-aligned end of the highest PT_LOAD in memory (p_memsz: includes .bss), 0 if none.
    uint64_t image_end(uint64_t page_size = 4096) const;
};

// True if the bytes at base start with the ELF magic.
bool is_elf_image(const MemorySource& memory, uint64_t base);

// Reads a 64-bit ELF header and its program headers at base. base is the lowest mapping of the
// object (file offset 0).
Result<LoadedElf> read_loaded_elf(const MemorySource& memory, uint64_t base);

}  // namespace dumpscope
