// HTML escaping and UTF-8 repair for text from a dump (html_text.h). The UTF-8 rules are the
// well-formed byte sequences of the Unicode Standard (table 3-7).
#include "diagnosis/html_text.h"

#include <cstdint>

namespace dumpscope::diagnosis {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

void append_code_point(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The sequence starting at bytes[i]: its length and code point when well-formed (length 0 when
// not), and how many bytes form the maximal ill-formed prefix otherwise (at least 1).
struct Decoded {
    size_t length = 0;
    uint32_t cp = 0;
    size_t ill_formed = 1;
};

Decoded decode(std::string_view bytes, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(bytes[k]); };
    const uint8_t lead = byte(i);
    Decoded d;
    if (lead < 0x80) return {1, lead, 0};
    size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // no overlong forms
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // no overlong forms
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        return d;  // a continuation byte, C0, C1 or F5..FF: never a lead
    }
    uint32_t cp = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < length; ++k) {
        if (i + k >= bytes.size()) {
            d.ill_formed = k;
            return d;
        }
        const uint8_t b = byte(i + k);
        const bool fits = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
        if (!fits) {
            d.ill_formed = k;
            return d;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    return {length, cp, 0};
}

bool is_bidi_control(uint32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string valid_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    size_t i = 0;
    while (i < bytes.size()) {
        const Decoded d = decode(bytes, i);
        if (d.length == 0) {
            out += kReplacement;
            i += d.ill_formed;
            continue;
        }
        if ((d.cp < 0x20 && d.cp != '\t' && d.cp != '\n')) {
            append_code_point(out, 0x2400 + d.cp);
        } else if (d.cp == 0x7F) {
            append_code_point(out, 0x2421);
        } else if (is_bidi_control(d.cp)) {
            out += kReplacement;
        } else {
            out.append(bytes.substr(i, d.length));
        }
        i += d.length;
    }
    return out;
}

std::string html_text(std::string_view bytes) {
    const std::string text = valid_utf8(bytes);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string shorten_utf8(const std::string& text, size_t max_code_points) {
    size_t count = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<uint8_t>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
        if (count++ == max_code_points) return text.substr(0, i) + "\xE2\x80\xA6";
    }
    return text;
}

}  // namespace dumpscope::diagnosis
