#include "elf/core_header.h"

#include <algorithm>
#include <cstring>

namespace dumpscope {

Elf64_Ehdr core_elf_header(uint64_t phnum, uint64_t shoff) {
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_ident[EI_OSABI] = ELFOSABI_NONE;
    h.e_type = ET_CORE;
    h.e_machine = EM_X86_64;
    h.e_version = EV_CURRENT;
    h.e_phoff = sizeof(Elf64_Ehdr);
    h.e_ehsize = sizeof(Elf64_Ehdr);
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = static_cast<Elf64_Half>(std::min<uint64_t>(phnum, PN_XNUM));
    if (shoff != 0) {  // extended numbering: the real count is in section header 0's sh_info
        h.e_shoff = shoff;
        h.e_shentsize = sizeof(Elf64_Shdr);
        h.e_shnum = 1;
        h.e_shstrndx = SHN_UNDEF;
    }
    return h;
}

}  // namespace dumpscope
