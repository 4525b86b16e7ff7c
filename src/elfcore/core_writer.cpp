// File layout, like the kernel's cores:
//   ELF header | program headers | [section header 0 when e_phnum is PN_XNUM] | process notes
//   | page-aligned PT_LOAD bytes, in address order | trailing notes (capture record)
// Program headers: PT_NOTE (process notes), every PT_LOAD, PT_NOTE (trailing notes).
#include "elfcore/core_writer.h"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/align.h"
#include "elf/core_header.h"
#include "elfcore/core_format.h"
#include "elfcore/core_layout.h"
#include "elfcore/core_notes.h"

namespace dumpscope {

namespace {

using elfcore::LoadSegment;

template <typename T>
std::span<const uint8_t> bytes_of(const T& value) {
    return {reinterpret_cast<const uint8_t*>(&value), sizeof(T)};
}

Elf64_Phdr note_header(uint64_t offset, uint64_t size) {
    Elf64_Phdr p{};
    p.p_type = PT_NOTE;
    p.p_offset = offset;
    p.p_filesz = size;
    p.p_align = elfcore::kNoteAlign;
    return p;
}

Elf64_Phdr load_header(const LoadSegment& s, uint64_t page) {
    Elf64_Phdr p{};
    p.p_type = PT_LOAD;
    p.p_flags = s.flags;
    p.p_offset = s.offset;
    p.p_vaddr = s.vaddr;
    p.p_filesz = s.filesz();
    p.p_memsz = s.memsz;
    p.p_align = page;
    return p;
}

// Writes the bytes streamed for [addr, addr+bytes.size()) into the segments that hold them.
class MemoryPlacer {
public:
    MemoryPlacer(const std::vector<LoadSegment>& segments, DumpFile& file) : file_(file) {
        for (const LoadSegment& s : segments) {
            if (s.has_bytes) with_bytes_.push_back(&s);
        }
    }

    Status write(uint64_t addr, std::span<const uint8_t> bytes) {
        while (!bytes.empty()) {
            auto it =
                std::upper_bound(with_bytes_.begin(), with_bytes_.end(), addr,
                                 [](uint64_t a, const LoadSegment* s) { return a < s->vaddr; });
            if (it == with_bytes_.begin() || addr >= (*std::prev(it))->end()) {
                return Error{fmt::format("internal error: no PT_LOAD holds address {:#x}", addr)};
            }
            const LoadSegment& s = **std::prev(it);
            const uint64_t n = std::min<uint64_t>(bytes.size(), s.end() - addr);
            DS_TRY(file_.write_sparse_at(s.offset + (addr - s.vaddr), bytes.first(n)));
            bytes = bytes.subspan(n);
            addr += n;
        }
        return {};
    }

private:
    DumpFile& file_;
    std::vector<const LoadSegment*> with_bytes_;
};

}  // namespace

Result<uint64_t> write_elf_core(const Snapshot& snapshot, const DumpContent& content,
                                DumpFile& file, const WriteContext& ctx) {
    const uint64_t page = elfcore::core_page_size(snapshot);
    auto notes = elfcore::build_process_notes(snapshot, content);
    if (!notes.ok()) return notes.error();
    // The bytes of whole pages are read from the target, not filled in: what the plan did not
    // ask for but shares a page with what it did is real memory, never zeros that look like it.
    auto ranges = elfcore::core_memory_ranges(content, page);
    if (!ranges.ok()) return ranges.error();
    DumpContent paged = content;
    paged.memory = std::move(*ranges);
    auto segments = elfcore::plan_load_segments(snapshot, paged, page);
    if (!segments.ok()) return segments.error();

    const uint64_t phnum = segments->size() + 2;
    if (phnum > UINT32_MAX) {
        return Error{fmt::format("too many memory segments for an ELF core ({})", phnum)};
    }
    uint64_t pos = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    const bool extended = phnum >= PN_XNUM;
    const uint64_t shoff = extended ? pos : 0;
    if (extended) pos += sizeof(Elf64_Shdr);
    const uint64_t notes_offset = pos;
    pos += notes->size();
    auto data_end = elfcore::assign_file_offsets(*segments, align_up(pos, page), page);
    if (!data_end.ok()) return data_end.error();

    // Headers and notes before the memory are written out of order (the ELF header last): a
    // compressed dump keeps them in memory until commit.
    DS_TRY(file.declare_head(align_up(pos, page)));
    DS_TRY(file.write_at(notes_offset, *notes));
    MemoryPlacer placer(*segments, file);
    auto written = stream_dump_memory(
        snapshot, paged, ctx,
        [&](size_t range, uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            return placer.write(paged.memory[range].start + offset, bytes);
        });
    if (!written.ok()) return written.error();
    if (ctx.target_memory_done) ctx.target_memory_done();

    // The capture record is known only now (pause time, unreadable ranges).
    auto trailing =
        elfcore::build_trailing_notes(record_to_write(snapshot, ctx, *written), snapshot, content);
    if (!trailing.ok()) return trailing.error();
    const uint64_t trailing_offset = align_up(*data_end, elfcore::kNoteAlign);
    DS_TRY(file.write_at(trailing_offset, *trailing));

    std::vector<Elf64_Phdr> headers;
    headers.reserve(phnum);
    headers.push_back(note_header(notes_offset, notes->size()));
    for (const LoadSegment& s : *segments) headers.push_back(load_header(s, page));
    headers.push_back(note_header(trailing_offset, trailing->size()));
    DS_TRY(file.write_at(0, bytes_of(core_elf_header(phnum, shoff))));
    DS_TRY(file.write_at(sizeof(Elf64_Ehdr),
                         std::span(reinterpret_cast<const uint8_t*>(headers.data()),
                                   headers.size() * sizeof(Elf64_Phdr))));
    if (extended) {
        Elf64_Shdr section0{};
        section0.sh_info = static_cast<Elf64_Word>(phnum);
        DS_TRY(file.write_at(shoff, bytes_of(section0)));
    }
    return trailing_offset + trailing->size();
}

}  // namespace dumpscope
