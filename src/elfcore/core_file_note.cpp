#include "elfcore/core_file_note.h"

#include <fmt/format.h>

#include <cstring>

namespace dumpscope::elfcore {

namespace {

uint64_t u64_at(std::span<const uint8_t> bytes, uint64_t offset) {
    uint64_t value = 0;
    std::memcpy(&value, bytes.data() + offset, sizeof(value));
    return value;
}

}  // namespace

Result<FileNote> parse_file_note(std::span<const uint8_t> desc) {
    if (desc.size() < 16)
        return Error{fmt::format("NT_FILE has {} bytes, expected at least 16", desc.size())};
    FileNote note;
    const uint64_t count = u64_at(desc, 0);
    note.page_size = u64_at(desc, 8);
    const uint64_t room = (desc.size() - 16) / 24;
    if (count > room) {
        return Error{fmt::format("NT_FILE claims {} files but has room for {}", count, room)};
    }
    if (note.page_size == 0 || note.page_size > (1u << 30) ||
        (note.page_size & (note.page_size - 1)) != 0) {
        return Error{fmt::format("NT_FILE has an invalid page size {}", note.page_size)};
    }
    std::span<const uint8_t> names = desc.subspan(16 + count * 24);
    note.entries.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        FileNoteEntry entry;
        entry.start = u64_at(desc, 16 + i * 24);
        entry.end = u64_at(desc, 16 + i * 24 + 8);
        const uint64_t pages = u64_at(desc, 16 + i * 24 + 16);
        if (entry.end <= entry.start) {
            return Error{fmt::format("NT_FILE entry #{} has an empty or inverted range {:#x}-{:#x}",
                                     i, entry.start, entry.end)};
        }
        if (pages > UINT64_MAX / note.page_size) {
            return Error{fmt::format("NT_FILE entry #{} has an absurd file offset", i)};
        }
        entry.file_offset = pages * note.page_size;
        const auto* nul = static_cast<const uint8_t*>(std::memchr(names.data(), 0, names.size()));
        if (nul == nullptr) {
            return Error{fmt::format("NT_FILE path #{} is not NUL-terminated", i)};
        }
        const size_t length = static_cast<size_t>(nul - names.data());
        entry.path.assign(reinterpret_cast<const char*>(names.data()), length);
        names = names.subspan(length + 1);
        note.entries.push_back(std::move(entry));
    }
    return note;
}

}  // namespace dumpscope::elfcore
