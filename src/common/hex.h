// Bytes as lower-case hexadecimal digits, two per byte (build-ids, ids).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace dumpscope {

inline std::string to_hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0xf];
    }
    return out;
}

}  // namespace dumpscope
