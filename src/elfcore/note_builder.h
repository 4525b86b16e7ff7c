// Appends ELF notes (Elf64_Nhdr, name, descriptor, each padded to 4 bytes) to a byte buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dumpscope::elfcore {

class NoteBuilder {
public:
    // `name` without its terminating NUL; namesz counts the NUL as the ELF spec says.
    // Fails only when the descriptor does not fit the 32-bit n_descsz.
    Status add(std::string_view name, uint32_t type, std::span<const uint8_t> desc);

    template <typename T>
    void add_struct(std::string_view name, uint32_t type, const T& value) {
        (void)add(name, type, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
    }

    const std::vector<uint8_t>& bytes() const { return bytes_; }
    std::vector<uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<uint8_t> bytes_;
};

// Bytes one note occupies in a note segment.
uint64_t note_size(std::string_view name, uint64_t desc_size);

}  // namespace dumpscope::elfcore
