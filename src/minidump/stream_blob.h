// The small streams of a minidump, built in memory at a known file offset and written with one
// pwrite. Every offset it hands out is already an absolute file offset, so it can be stored as an
// RVA directly (the writer checks once that the whole blob lies below 4 GiB).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "minidump/minidump_format.h"
#include "minidump/utf16.h"

namespace dumpscope::minidump {

class StreamBlob {
public:
    explicit StreamBlob(uint64_t base_offset) : base_(base_offset) {}

    uint64_t base() const { return base_; }
    uint64_t end_offset() const { return base_ + bytes_.size(); }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

    // Pads with zeros until end_offset() is a multiple of `alignment` (a power of two).
    void align(uint64_t alignment) {
        const uint64_t end = end_offset();
        bytes_.resize(bytes_.size() + ((alignment - end % alignment) % alignment), 0);
    }

    uint64_t append_bytes(std::span<const uint8_t> data) {
        const uint64_t offset = end_offset();
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        return offset;
    }

    template <typename T>
    uint64_t append(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        const uint64_t offset = end_offset();
        const size_t at = bytes_.size();
        bytes_.resize(at + sizeof(T));
        std::memcpy(bytes_.data() + at, &value, sizeof(T));
        return offset;
    }

    // Overwrites sizeof(T) bytes at an absolute offset previously handed out.
    template <typename T>
    void patch(uint64_t offset, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        std::memcpy(bytes_.data() + (offset - base_), &value, sizeof(T));
    }

    // A MINIDUMP_STRING, 4-aligned: u32 byte length (without the terminator), UTF-16LE code
    // units, a 2-byte NUL. Returns its offset.
    uint64_t append_string(std::string_view utf8) {
        align(4);
        const std::vector<uint8_t> utf16 = utf8_to_utf16le(utf8);
        const uint64_t offset = append(static_cast<uint32_t>(utf16.size()));
        append_bytes(utf16);
        append(uint16_t{0});
        return offset;
    }

    // The location of everything appended since `start`.
    LocationDescriptor location_since(uint64_t start) const {
        return LocationDescriptor{static_cast<uint32_t>(end_offset() - start),
                                  static_cast<uint32_t>(start)};
    }

private:
    uint64_t base_;
    std::vector<uint8_t> bytes_;
};

}  // namespace dumpscope::minidump
