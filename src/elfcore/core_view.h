// A validated view of an ELF core file in memory: header, program headers (with PN_XNUM
// extended numbering) and every note of every PT_NOTE. Every offset and size is checked
// against the file before it is touched; malformed input is an Error, never a crash.
// A core cut short (`ulimit -c`, a full disk) is read: PT_LOADs whose bytes run past the end keep
// the part that is there (the rest is absent), a PT_NOTE keeps the notes wholly in the file, and
// `truncation` says what is gone. Only the last segments may be cut: a segment wholly in the file
// after one that is cut is not a truncation but damage, an Error.
#pragma once

#include <elf.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "snapshot/truncation.h"

namespace dumpscope::elfcore {

struct CoreNote {
    std::string_view owner;  // the name without its NUL padding: "CORE", "LINUX", ...
    uint32_t type = 0;
    std::span<const uint8_t> desc;
    uint64_t desc_offset = 0;  // file offset of the descriptor
};

struct CoreView {
    uint16_t machine = 0;  // e_machine
    uint8_t osabi = 0;     // e_ident[EI_OSABI]
    std::vector<Elf64_Phdr> segments;
    std::vector<CoreNote> notes;  // in file order
    Truncation truncation;        // what the file lacks at its end (truncated() false if whole)
};

// The bytes of a PT_LOAD that are in the file: all of p_filesz, or the part before the end of a
// truncated file (empty when it starts past the end).
std::span<const uint8_t> segment_bytes_in_file(std::span<const uint8_t> file, const Elf64_Phdr& p);

// True if the bytes start like an ELF file of type ET_CORE (either class, either byte order).
bool has_elf_core_header(std::span<const uint8_t> start);

// `file` must outlive the view (notes point into it).
Result<CoreView> parse_elf_core(std::span<const uint8_t> file);

}  // namespace dumpscope::elfcore
