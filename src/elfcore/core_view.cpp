#include "elfcore/core_view.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>

#include "common/align.h"
#include "elfcore/core_format.h"

namespace dumpscope::elfcore {

namespace {

template <typename T>
T load(std::span<const uint8_t> file, uint64_t offset) {
    T value;
    std::memcpy(&value, file.data() + offset, sizeof(T));
    return value;
}

// True if [offset, offset+size) lies inside a file of `file_size` bytes; overflow-safe.
bool fits(uint64_t offset, uint64_t size, uint64_t file_size) {
    return offset <= file_size && size <= file_size - offset;
}

// No core file is larger than the user address space (128 TiB on x86-64), twice over.
constexpr uint64_t kMaxCoreFileSize = uint64_t{1} << 48;

Result<uint64_t> program_header_count(std::span<const uint8_t> file, const Elf64_Ehdr& h) {
    if (h.e_phnum != PN_XNUM) return uint64_t{h.e_phnum};
    // Extended numbering: the real count is sh_info of section header 0.
    if (h.e_shoff == 0 || h.e_shentsize < sizeof(Elf64_Shdr) ||
        !fits(h.e_shoff, sizeof(Elf64_Shdr), file.size())) {
        return Error{
            fmt::format("e_phnum is PN_XNUM but section header 0 (offset {:#x}) is not in the file",
                        h.e_shoff)};
    }
    return uint64_t{load<Elf64_Shdr>(file, h.e_shoff).sh_info};
}

// The notes of a PT_NOTE; in a truncated core (checked by check_segments) the notes that lie
// wholly in the file, the first one the end cuts and those after it are gone.
Status parse_notes(std::span<const uint8_t> file, const Elf64_Phdr& segment, size_t index,
                   std::vector<CoreNote>& notes) {
    uint64_t pos = segment.p_offset;
    const uint64_t end = segment.p_offset + segment.p_filesz;
    const uint64_t in_file = std::min<uint64_t>(end, file.size());
    while (pos < end) {
        if (end - pos < sizeof(Elf64_Nhdr)) {
            return Error{
                fmt::format("PT_NOTE #{} ends with a truncated note header at {:#x}", index, pos)};
        }
        if (in_file < pos || in_file - pos < sizeof(Elf64_Nhdr)) break;  // cut by the end
        const auto header = load<Elf64_Nhdr>(file, pos);
        const uint64_t name_at = pos + sizeof(Elf64_Nhdr);
        const uint64_t desc_at = name_at + align_up(header.n_namesz, kNoteAlign);
        // The last descriptor of a segment may lack its padding.
        if (desc_at > end || header.n_descsz > end - desc_at) {
            return Error{fmt::format(
                "note at {:#x} (name {} bytes, descriptor {} bytes) extends past the end of "
                "PT_NOTE #{}",
                pos, header.n_namesz, header.n_descsz, index)};
        }
        if (desc_at + header.n_descsz > in_file) break;  // cut by the end of the file
        std::string_view owner(reinterpret_cast<const char*>(file.data() + name_at),
                               header.n_namesz);
        while (!owner.empty() && owner.back() == '\0') owner.remove_suffix(1);
        notes.push_back({owner, header.n_type, file.subspan(desc_at, header.n_descsz), desc_at});
        pos = std::min(end, desc_at + align_up(header.n_descsz, kNoteAlign));
    }
    return {};
}

Status check_bytes(const Elf64_Phdr& p, size_t index) {
    if (p.p_type == PT_LOAD && p.p_filesz > p.p_memsz) {
        return Error{fmt::format("PT_LOAD #{} at {:#x} has more file bytes ({}) than memory ({})",
                                 index, p.p_vaddr, p.p_filesz, p.p_memsz)};
    }
    if (p.p_offset > kMaxCoreFileSize || p.p_filesz > kMaxCoreFileSize - p.p_offset) {
        return Error{fmt::format(
            "{} #{} (file offset {:#x}, {} bytes) ends past 256 TiB: no core is that large",
            p.p_type == PT_NOTE ? "PT_NOTE" : "PT_LOAD", index, p.p_offset, p.p_filesz)};
    }
    return {};
}

const char* segment_type_name(uint32_t type) { return type == PT_NOTE ? "PT_NOTE" : "PT_LOAD"; }

// PT_LOADs and PT_NOTEs whose bytes run past the end of the file: allowed only as the last
// segments with bytes (a truncated core), recorded in `truncation`.
Status check_segments(const std::vector<Elf64_Phdr>& segments, uint64_t file_size,
                      Truncation& truncation) {
    truncation.file_size = file_size;
    truncation.expected_size = file_size;
    std::optional<size_t> first_cut;
    for (size_t i = 0; i < segments.size(); ++i) {
        const Elf64_Phdr& p = segments[i];
        if (p.p_type != PT_LOAD && p.p_type != PT_NOTE) continue;
        DS_TRY(check_bytes(p, i));
        if (p.p_filesz == 0) continue;
        const bool whole = fits(p.p_offset, p.p_filesz, file_size);
        if (whole && first_cut) {
            const Elf64_Phdr& cut = segments[*first_cut];
            return Error{fmt::format(
                "{} #{} (file offset {:#x}, {} bytes) extends past the end of the file ({} "
                "bytes), but {} #{} after it is in the file: not a truncated core",
                segment_type_name(cut.p_type), *first_cut, cut.p_offset, cut.p_filesz, file_size,
                segment_type_name(p.p_type), i)};
        }
        if (whole) continue;
        const uint64_t end = p.p_offset + p.p_filesz;
        if (p.p_type == PT_NOTE) {
            truncation.add(fmt::format("notes of PT_NOTE #{}", i), end);
        } else {
            if (!first_cut || segments[*first_cut].p_type != PT_LOAD) {
                truncation.add(fmt::format("memory from PT_LOAD #{} at {:#x} on", i, p.p_vaddr),
                               end);
            }
            const uint64_t present = p.p_offset >= file_size ? 0 : file_size - p.p_offset;
            truncation.add_memory(p.p_filesz, present, end);
        }
        if (!first_cut) first_cut = i;
    }
    return {};
}

}  // namespace

bool has_elf_core_header(std::span<const uint8_t> start) {
    if (start.size() < EI_NIDENT + 2 || std::memcmp(start.data(), ELFMAG, SELFMAG) != 0) {
        return false;
    }
    const uint8_t lo = start[EI_NIDENT];
    const uint8_t hi = start[EI_NIDENT + 1];
    const unsigned type = start[EI_DATA] == ELFDATA2MSB ? (lo << 8 | hi) : (hi << 8 | lo);
    return type == ET_CORE;
}

Result<CoreView> parse_elf_core(std::span<const uint8_t> file) {
    if (file.size() < sizeof(Elf64_Ehdr) || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0) {
        if (file.size() >= SELFMAG && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0) {
            return Error{
                fmt::format("ELF file of {} bytes is too small for an ELF header", file.size())};
        }
        return Error{"not an ELF file (no \\x7fELF magic)"};
    }
    if (file[EI_CLASS] != ELFCLASS64 || file[EI_DATA] != ELFDATA2LSB) {
        return Error{"only 64-bit little-endian ELF cores are supported"};
    }
    const auto h = load<Elf64_Ehdr>(file, 0);
    if (h.e_type != ET_CORE) {
        return Error{fmt::format("ELF file is not a core file (e_type {})", h.e_type)};
    }
    auto count = program_header_count(file, h);
    if (!count.ok()) return count.error();
    if (*count > 0 && h.e_phentsize != sizeof(Elf64_Phdr)) {
        return Error{fmt::format("unexpected program header size {} (expected {})", h.e_phentsize,
                                 sizeof(Elf64_Phdr))};
    }
    if (*count > file.size() / sizeof(Elf64_Phdr) ||
        !fits(h.e_phoff, *count * sizeof(Elf64_Phdr), file.size())) {
        return Error{fmt::format(
            "{} program headers at offset {:#x} extend past the end of the file ({} bytes)", *count,
            h.e_phoff, file.size())};
    }

    CoreView view;
    view.machine = h.e_machine;
    view.osabi = h.e_ident[EI_OSABI];
    view.segments.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
        view.segments.push_back(load<Elf64_Phdr>(file, h.e_phoff + i * sizeof(Elf64_Phdr)));
    }
    DS_TRY(check_segments(view.segments, file.size(), view.truncation));
    for (size_t i = 0; i < view.segments.size(); ++i) {
        const Elf64_Phdr& p = view.segments[i];
        if (p.p_type == PT_NOTE) DS_TRY(parse_notes(file, p, i, view.notes));
    }
    return view;
}

std::span<const uint8_t> segment_bytes_in_file(std::span<const uint8_t> file, const Elf64_Phdr& p) {
    if (p.p_offset >= file.size()) return {};
    return file.subspan(p.p_offset, std::min<uint64_t>(p.p_filesz, file.size() - p.p_offset));
}

}  // namespace dumpscope::elfcore
