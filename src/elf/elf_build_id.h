// NT_GNU_BUILD_ID of an ELF object: from its image in a process's memory (ELF header ->
// program headers -> PT_NOTE segments), or from the file on disk through libelf.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "elf/elf_image.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

// base is where the ELF header is mapped (the module's lowest mapping, file offset 0).
// An error when the header or notes are unreadable or there is no build-id note.
Result<std::vector<uint8_t>> build_id_from_memory(const MemorySource& memory, uint64_t base);
Result<std::vector<uint8_t>> build_id_from_memory(const MemorySource& memory, const LoadedElf& elf);

// Reads the notes (sections, else program headers) of the file with libelf.
Result<std::vector<uint8_t>> build_id_from_file(const std::string& path);

// Finds NT_GNU_BUILD_ID in a buffer of ELF notes (4- or 8-byte aligned as `align` says).
std::vector<uint8_t> find_build_id_note(std::span<const uint8_t> notes, size_t align);

}  // namespace dumpscope
