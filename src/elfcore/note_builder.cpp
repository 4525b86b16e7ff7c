#include "elfcore/note_builder.h"

#include <elf.h>

#include <cstring>
#include <string>

#include "common/align.h"
#include "elfcore/core_format.h"

namespace dumpscope::elfcore {

uint64_t note_size(std::string_view name, uint64_t desc_size) {
    return sizeof(Elf64_Nhdr) + align_up(name.size() + 1, kNoteAlign) +
           align_up(desc_size, kNoteAlign);
}

Status NoteBuilder::add(std::string_view name, uint32_t type, std::span<const uint8_t> desc) {
    if (desc.size() > UINT32_MAX - kNoteAlign) {
        return Error{std::string("ELF note ") + std::string(name) + " is too large (" +
                     std::to_string(desc.size()) + " bytes)"};
    }
    Elf64_Nhdr header{};
    header.n_namesz = static_cast<Elf64_Word>(name.size() + 1);
    header.n_descsz = static_cast<Elf64_Word>(desc.size());
    header.n_type = type;

    const size_t at = bytes_.size();
    bytes_.resize(at + note_size(name, desc.size()), 0);  // padding stays zero
    uint8_t* out = bytes_.data() + at;
    std::memcpy(out, &header, sizeof(header));
    out += sizeof(header);
    std::memcpy(out, name.data(), name.size());
    out += align_up(name.size() + 1, kNoteAlign);
    if (!desc.empty()) std::memcpy(out, desc.data(), desc.size());
    return {};
}

}  // namespace dumpscope::elfcore
