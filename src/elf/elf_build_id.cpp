#include "elf/elf_build_id.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>
#include <memory>

#include "common/align.h"
#include "common/unique_fd.h"

namespace dumpscope {

namespace {

constexpr size_t kMaxNoteSegment = 64 * 1024;

struct ElfCloser {
    void operator()(Elf* elf) const { elf_end(elf); }
};

std::vector<uint8_t> build_id_in_data(Elf_Data* data) {
    if (data == nullptr || data->d_buf == nullptr) return {};
    GElf_Nhdr header;
    size_t offset = 0, name_offset = 0, desc_offset = 0;
    while ((offset = gelf_getnote(data, offset, &header, &name_offset, &desc_offset)) > 0) {
        const auto* bytes = static_cast<const uint8_t*>(data->d_buf);
        if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
            std::memcmp(bytes + name_offset, "GNU", 4) == 0 && header.n_descsz > 0) {
            return {bytes + desc_offset, bytes + desc_offset + header.n_descsz};
        }
    }
    return {};
}

}  // namespace

std::vector<uint8_t> find_build_id_note(std::span<const uint8_t> notes, size_t align) {
    if (align != 8) align = 4;
    size_t offset = 0;
    while (offset + sizeof(Elf64_Nhdr) <= notes.size()) {
        Elf64_Nhdr header;
        std::memcpy(&header, notes.data() + offset, sizeof(header));
        size_t name_at = offset + sizeof(header);
        size_t desc_at = name_at + align_up(header.n_namesz, align);
        size_t next = desc_at + align_up(header.n_descsz, align);
        if (header.n_namesz > notes.size() || header.n_descsz > notes.size() ||
            desc_at + header.n_descsz > notes.size()) {
            break;
        }
        if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
            std::memcmp(notes.data() + name_at, "GNU", 4) == 0 && header.n_descsz > 0) {
            return {notes.begin() + static_cast<std::ptrdiff_t>(desc_at),
                    notes.begin() + static_cast<std::ptrdiff_t>(desc_at + header.n_descsz)};
        }
        if (next <= offset) break;
        offset = next;
    }
    return {};
}

Result<std::vector<uint8_t>> build_id_from_memory(const MemorySource& memory, uint64_t base) {
    auto elf = read_loaded_elf(memory, base);
    if (!elf) return elf.error();
    return build_id_from_memory(memory, *elf);
}

Result<std::vector<uint8_t>> build_id_from_memory(const MemorySource& memory,
                                                  const LoadedElf& elf) {
    for (const auto& ph : elf.phdrs) {
        if (ph.p_type != PT_NOTE || ph.p_filesz == 0) continue;
        std::vector<uint8_t> notes(std::min<uint64_t>(ph.p_filesz, kMaxNoteSegment));
        auto n = memory.read(elf.bias + ph.p_vaddr, notes);
        if (!n.ok()) continue;
        notes.resize(*n);
        auto id = find_build_id_note(notes, ph.p_align);
        if (!id.empty()) return id;
    }
    return Error{"no build-id note in memory"};
}

Result<std::vector<uint8_t>> build_id_from_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open " + path);
    if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf is unusable"};
    std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return Error{path + " is not an ELF file"};

    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
         scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) continue;
        auto id = build_id_in_data(elf_getdata(scn, nullptr));
        if (!id.empty()) return id;
    }
    size_t phnum = 0;
    if (elf_getphdrnum(elf.get(), &phnum) == 0) {
        for (size_t i = 0; i < phnum; ++i) {
            GElf_Phdr phdr;
            if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr ||
                phdr.p_type != PT_NOTE) {
                continue;
            }
            Elf_Data* data =
                elf_getdata_rawchunk(elf.get(), static_cast<int64_t>(phdr.p_offset), phdr.p_filesz,
                                     phdr.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
            auto id = build_id_in_data(data);
            if (!id.empty()) return id;
        }
    }
    return Error{"no build-id note in " + path};
}

}  // namespace dumpscope
