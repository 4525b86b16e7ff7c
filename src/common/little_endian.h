// Little-endian integers in byte buffers, for the small formats dumpscope defines itself (the
// annotations stream, the helper's settings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dumpscope {

inline void append_le32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The caller checks that bytes [at, at + 4) exist.
inline void store_le32(std::span<uint8_t> bytes, size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// The caller checks that bytes [at, at + 4) exist.
inline uint32_t load_le32(std::span<const uint8_t> bytes, size_t at) {
    return uint32_t{bytes[at]} | uint32_t{bytes[at + 1]} << 8 | uint32_t{bytes[at + 2]} << 16 |
           uint32_t{bytes[at + 3]} << 24;
}

}  // namespace dumpscope
