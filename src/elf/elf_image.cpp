#include "elf/elf_image.h"

#include <cstring>
#include <span>

#include "common/align.h"

namespace dumpscope {

namespace {

constexpr uint16_t kMaxPhdrs = 512;

}  // namespace

uint64_t LoadedElf::image_end(uint64_t page_size) const {
    uint64_t end = 0;
    for (const auto& ph : phdrs) {
        if (ph.p_type == PT_LOAD) end = std::max(end, bias + ph.p_vaddr + ph.p_memsz);
    }
    return end == 0 ? 0 : align_up(end, page_size);
}

bool is_elf_image(const MemorySource& memory, uint64_t base) {
    unsigned char magic[SELFMAG];
    auto got = memory.read(base, std::span<uint8_t>(magic, SELFMAG));
    return got.ok() && *got == SELFMAG && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

Result<LoadedElf> read_loaded_elf(const MemorySource& memory, uint64_t base) {
    Elf64_Ehdr ehdr;
    auto got =
        memory.read(base, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&ehdr), sizeof(ehdr)));
    if (!got.ok() || *got != sizeof(ehdr) || std::memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0 ||
        ehdr.e_ident[EI_CLASS] != ELFCLASS64) {
        return Error{"no 64-bit ELF header in memory"};
    }
    if (ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phnum == 0 || ehdr.e_phnum > kMaxPhdrs) {
        return Error{"unusable program header table"};
    }
    LoadedElf elf;
    elf.base = base;
    elf.phdrs.resize(ehdr.e_phnum);
    std::span<uint8_t> raw(reinterpret_cast<uint8_t*>(elf.phdrs.data()),
                           elf.phdrs.size() * sizeof(Elf64_Phdr));
    got = memory.read(base + ehdr.e_phoff, raw);
    if (!got.ok() || *got != raw.size()) return Error{"program headers not readable in memory"};

    // The bias: the lowest PT_LOAD (which maps file offset 0) landed at base.
    const Elf64_Phdr* first_load = nullptr;
    for (const auto& ph : elf.phdrs) {
        if (ph.p_type == PT_LOAD && (first_load == nullptr || ph.p_vaddr < first_load->p_vaddr)) {
            first_load = &ph;
        }
    }
    if (first_load == nullptr) return Error{"no PT_LOAD segment"};
    uint64_t first_vaddr = (first_load->p_vaddr - first_load->p_offset) & ~uint64_t{0xfff};
    elf.bias = base - first_vaddr;
    return elf;
}

}  // namespace dumpscope
