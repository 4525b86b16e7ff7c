#include "api_read/annotation_table.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstring>

namespace dumpscope {

namespace {

size_t bounded_length(const char* s, size_t limit) {
    size_t n = 0;
    while (n <= limit && s[n] != '\0') ++n;
    return n;
}

}  // namespace

bool AnnotationTable::set(const char* key, const char* value, const char** error) {
    if (key == nullptr || key[0] == '\0') {
        *error = "an annotation needs a key";
        return false;
    }
    const size_t key_size = bounded_length(key, sizeof slots[0].key - 1);
    if (key_size > sizeof slots[0].key - 1) {
        *error = "annotation keys are at most 63 bytes";
        return false;
    }
    const size_t value_size = value == nullptr ? 0 : bounded_length(value, 255);
    if (value_size > 255) {
        *error = "annotation values are at most 255 bytes";
        return false;
    }
    while (writer.test_and_set(std::memory_order_acquire)) {
    }
    AnnotationSlot* target = nullptr;
    AnnotationSlot* free_slot = nullptr;
    for (AnnotationSlot& slot : slots) {
        const uint32_t state = slot.state.load(std::memory_order_relaxed);
        if (state == AnnotationSlot::kSet && slot.key_size == key_size &&
            std::memcmp(slot.key, key, key_size) == 0) {
            target = &slot;
            break;
        }
        if (state == AnnotationSlot::kFree && free_slot == nullptr) free_slot = &slot;
    }
    bool ok = true;
    if (value == nullptr) {
        if (target != nullptr)
            target->state.store(AnnotationSlot::kFree, std::memory_order_release);
    } else {
        if (target == nullptr) target = free_slot;
        if (target == nullptr) {
            *error = "the annotation table is full (64 keys)";
            ok = false;
        } else {
            target->state.store(AnnotationSlot::kWriting, std::memory_order_release);
            // The bytes below must not be written before the slot says it is being written
            // (the helper reads the table while this thread is stopped anywhere).
            std::atomic_thread_fence(std::memory_order_seq_cst);
            std::memcpy(target->key, key, key_size);
            target->key_size = static_cast<uint32_t>(key_size);
            std::memcpy(target->value, value, value_size);
            target->value_size = static_cast<uint32_t>(value_size);
            target->state.store(AnnotationSlot::kSet, std::memory_order_release);
        }
    }
    writer.clear(std::memory_order_release);
    return ok;
}

Result<std::vector<std::pair<std::string, std::string>>> read_annotation_table(
    std::span<const uint8_t> bytes) {
    if (bytes.size() < sizeof(AnnotationTable))
        return Error{fmt::format("the annotation table is {} bytes ({} expected)", bytes.size(),
                                 sizeof(AnnotationTable))};
    const AnnotationTable fresh;
    if (std::memcmp(bytes.data(), fresh.magic, sizeof fresh.magic) != 0)
        return Error{"no annotation table at the address the library gave"};
    std::vector<std::pair<std::string, std::string>> out;
    const size_t first = offsetof(AnnotationTable, slots);
    for (uint32_t i = 0; i < AnnotationTable::kSlots; ++i) {
        const uint8_t* p = bytes.data() + first + i * sizeof(AnnotationSlot);
        uint32_t state = 0, key_size = 0, value_size = 0;
        std::memcpy(&state, p + offsetof(AnnotationSlot, state), 4);
        std::memcpy(&key_size, p + offsetof(AnnotationSlot, key_size), 4);
        std::memcpy(&value_size, p + offsetof(AnnotationSlot, value_size), 4);
        if (state != AnnotationSlot::kSet) continue;  // free, or being written at the stop
        if (key_size > 63 || value_size > 255) continue;
        const char* key = reinterpret_cast<const char*>(p + offsetof(AnnotationSlot, key));
        const char* value = reinterpret_cast<const char*>(p + offsetof(AnnotationSlot, value));
        out.emplace_back(std::string(key, key_size), std::string(value, value_size));
    }
    return out;
}

}  // namespace dumpscope
