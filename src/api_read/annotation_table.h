// Annotations: key/value strings a program keeps up to date while it runs (version, current
// request, ...), as Crashpad's. The table lives in the program (static storage, no allocation);
// the helper reads it out of the stopped process and writes it as the DumpscopeAnnotations
// stream (minidump/annotations_stream.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "minidump/annotations_stream.h"

namespace dumpscope {

struct AnnotationSlot {
    static constexpr uint32_t kFree = 0, kWriting = 1, kSet = 2;
    std::atomic<uint32_t> state{kFree};
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    char key[64] = {};
    char value[256] = {};
};

struct AnnotationTable {
    static constexpr uint32_t kSlots = 64;
    char magic[8] = {'D', 'S', 'A', 'N', 'N', 'O', 'T', '1'};
    uint32_t slot_count = kSlots;
    uint32_t slot_size = sizeof(AnnotationSlot);
    std::atomic_flag writer = ATOMIC_FLAG_INIT;  // one writer at a time
    AnnotationSlot slots[kSlots];

    // Sets (value != nullptr) or removes a key. Errors: empty or too long key or value, table
    // full. No allocation.
    bool set(const char* key, const char* value, const char** error);
};

// The annotations of a table's bytes (read out of a process): the set slots, in slot order.
// Errors: not a table (magic, sizes).
Result<std::vector<std::pair<std::string, std::string>>> read_annotation_table(
    std::span<const uint8_t> bytes);

}  // namespace dumpscope
