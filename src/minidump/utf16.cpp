#include "minidump/utf16.h"

namespace dumpscope::minidump {

namespace {

constexpr char32_t kReplacement = 0xfffd;

// Decodes one code point at utf8[pos] and advances pos; malformed input yields U+FFFD and
// consumes one byte, so decoding always makes progress.
char32_t decode_utf8(std::string_view utf8, size_t& pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(utf8[i]); };
    const uint8_t lead = byte(pos);
    if (lead < 0x80) {
        ++pos;
        return lead;
    }
    size_t length = 0;
    char32_t cp = 0;
    char32_t minimum = 0;
    if ((lead & 0xe0) == 0xc0) {
        length = 2, cp = lead & 0x1f, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3, cp = lead & 0x0f, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4, cp = lead & 0x07, minimum = 0x10000;
    } else {
        ++pos;
        return kReplacement;
    }
    if (pos + length > utf8.size()) {
        ++pos;
        return kReplacement;
    }
    for (size_t i = 1; i < length; ++i) {
        const uint8_t next = byte(pos + i);
        if ((next & 0xc0) != 0x80) {
            ++pos;
            return kReplacement;
        }
        cp = (cp << 6) | (next & 0x3f);
    }
    if (cp < minimum || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        ++pos;
        return kReplacement;
    }
    pos += length;
    return cp;
}

void append_unit(std::vector<uint8_t>& out, char16_t unit) {
    out.push_back(static_cast<uint8_t>(unit & 0xff));
    out.push_back(static_cast<uint8_t>(unit >> 8));
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

}  // namespace

std::vector<uint8_t> utf8_to_utf16le(std::string_view utf8) {
    std::vector<uint8_t> out;
    out.reserve(utf8.size() * 2);
    size_t pos = 0;
    while (pos < utf8.size()) {
        const char32_t cp = decode_utf8(utf8, pos);
        if (cp >= 0x10000) {
            const char32_t v = cp - 0x10000;
            append_unit(out, static_cast<char16_t>(0xd800 + (v >> 10)));
            append_unit(out, static_cast<char16_t>(0xdc00 + (v & 0x3ff)));
        } else {
            append_unit(out, static_cast<char16_t>(cp));
        }
    }
    return out;
}

std::string utf16le_to_utf8(std::span<const uint8_t> utf16le) {
    std::string out;
    out.reserve(utf16le.size() / 2);
    const size_t units = utf16le.size() / 2;
    const auto unit = [&](size_t i) {
        return static_cast<char16_t>(utf16le[2 * i] | (utf16le[2 * i + 1] << 8));
    };
    for (size_t i = 0; i < units; ++i) {
        const char16_t u = unit(i);
        if (u == 0) break;
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            const char16_t low = unit(i + 1);
            if (low >= 0xdc00 && low <= 0xdfff) {
                append_utf8(out, 0x10000 + ((char32_t{u} - 0xd800) << 10) + (low - 0xdc00));
                ++i;
                continue;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff) {
            append_utf8(out, kReplacement);
        } else {
            append_utf8(out, u);
        }
    }
    return out;
}

}  // namespace dumpscope::minidump
