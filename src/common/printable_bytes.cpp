#include "common/printable_bytes.h"

#include <fmt/format.h>

namespace dumpscope {

namespace {

// The length of the valid UTF-8 sequence at bytes[at] (shortest form, no surrogates, at most
// U+10FFFF), or 0 if there is none.
size_t utf8_sequence(std::string_view bytes, size_t at) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
    const unsigned char lead = byte(at);
    size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return 0;
    }
    if (bytes.size() - at < length) return 0;
    if (byte(at + 1) < low || byte(at + 1) > high) return 0;
    for (size_t i = 2; i < length; ++i) {
        if (byte(at + i) < 0x80 || byte(at + i) > 0xbf) return 0;
    }
    return length;
}

}  // namespace

std::string printable_bytes(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t at = 0; at < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[at]);
        if (c == '\\') {
            out += "\\\\";
            ++at;
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            ++at;
        } else if (const size_t length = c >= 0x80 ? utf8_sequence(bytes, at) : 0; length > 0) {
            out.append(bytes.substr(at, length));
            at += length;
        } else {
            out += fmt::format("\\x{:02x}", c);
            ++at;
        }
    }
    return out;
}

std::string bytes_from_printable(std::string_view text) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t at = 0; at < text.size(); ++at) {
        const bool escape = text[at] == '\\' && at + 1 < text.size();
        if (escape && text[at + 1] == '\\') {
            out += '\\';
            ++at;
        } else if (escape && text[at + 1] == 'x' && at + 3 < text.size() &&
                   hex(text[at + 2]) >= 0 && hex(text[at + 3]) >= 0) {
            out += static_cast<char>(hex(text[at + 2]) * 16 + hex(text[at + 3]));
            at += 3;
        } else {
            out += text[at];  // a plain byte, or a backslash that starts no escape
        }
    }
    return out;
}

}  // namespace dumpscope
