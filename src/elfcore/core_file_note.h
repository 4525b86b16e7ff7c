// NT_FILE: the files mapped into the process, as the kernel and gdb write it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope::elfcore {

struct FileNoteEntry {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t file_offset = 0;  // bytes (page offset times the note's page size)
    std::string path;
};

struct FileNote {
    uint64_t page_size = 0;
    std::vector<FileNoteEntry> entries;
};

// count, page size, count x {start, end, page offset}, then count NUL-terminated paths.
// Counts that do not fit the descriptor, empty or inverted ranges and unterminated paths are
// errors.
Result<FileNote> parse_file_note(std::span<const uint8_t> desc);

}  // namespace dumpscope::elfcore
