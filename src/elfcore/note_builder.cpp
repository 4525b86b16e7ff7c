#include "elfcore/note_builder.h"

#include <elf.h>

#include <cstring>
#include <string>

#include "elfcore/core_format.h"

namespace dumpscope::elfcore {

namespace {

uint64_t pad4(uint64_t n) { return (n + kNoteAlign - 1) & ~(kNoteAlign - 1); }

}  // namespace

uint64_t note_size(std::string_view name, uint64_t desc_size) {
    return sizeof(Elf64_Nhdr) + pad4(name.size() + 1) + pad4(desc_size);
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
    out += pad4(name.size() + 1);
    if (!desc.empty()) std::memcpy(out, desc.data(), desc.size());
    return {};
}

}  // namespace dumpscope::elfcore
