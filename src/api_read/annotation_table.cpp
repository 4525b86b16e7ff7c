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

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t get_u32(std::span<const uint8_t> b, size_t at) {
    return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
           uint32_t{b[at + 3]} << 24;
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

std::vector<uint8_t> encode_annotations_stream(
    const std::vector<std::pair<std::string, std::string>>& annotations) {
    std::vector<uint8_t> out;
    put_u32(out, 1);
    put_u32(out, static_cast<uint32_t>(annotations.size()));
    for (const auto& [key, value] : annotations) {
        put_u32(out, static_cast<uint32_t>(key.size()));
        put_u32(out, static_cast<uint32_t>(value.size()));
        out.insert(out.end(), key.begin(), key.end());
        out.insert(out.end(), value.begin(), value.end());
    }
    return out;
}

Result<std::vector<std::pair<std::string, std::string>>> decode_annotations_stream(
    std::span<const uint8_t> bytes) {
    auto bad = [&](const std::string& what) {
        return Error{fmt::format("DumpscopeAnnotations stream ({} bytes): {}", bytes.size(), what)};
    };
    if (bytes.size() < 8) return bad("shorter than its header");
    if (get_u32(bytes, 0) != 1) return bad(fmt::format("version {}", get_u32(bytes, 0)));
    const uint32_t count = get_u32(bytes, 4);
    std::vector<std::pair<std::string, std::string>> out;
    size_t at = 8;
    for (uint32_t i = 0; i < count; ++i) {
        if (bytes.size() - at < 8) return bad(fmt::format("entry {} at offset {} is cut", i, at));
        const uint32_t key_size = get_u32(bytes, at);
        const uint32_t value_size = get_u32(bytes, at + 4);
        at += 8;
        if (key_size > bytes.size() - at || value_size > bytes.size() - at - key_size)
            return bad(fmt::format("entry {} at offset {} runs past the end", i, at - 8));
        const char* p = reinterpret_cast<const char*>(bytes.data() + at);
        out.emplace_back(std::string(p, key_size), std::string(p + key_size, value_size));
        at += key_size + value_size;
    }
    return out;
}

}  // namespace dumpscope
