// Text from a dump on an HTML page. Every byte of it is untrusted (thread and process names,
// paths, symbols, strings a process wrote): html_text() makes any bytes safe as element content
// and as a quoted attribute value, and readable.
#pragma once

#include <string>
#include <string_view>

namespace dumpscope::diagnosis {

// Well-formed UTF-8 for any bytes. Each maximal ill-formed subsequence (a stray continuation
// byte, a truncated sequence, an overlong form, a surrogate, a code point above U+10FFFF) becomes
// one U+FFFD; C0 controls other than tab and newline, and DEL, become their Control Pictures
// (U+2400 + c, U+2421), so that they show; bidirectional overrides and isolates (U+202A-U+202E,
// U+2066-U+2069), which could make text read in another order than it is, become U+FFFD.
std::string valid_utf8(std::string_view bytes);

// valid_utf8(), then &, <, >, " and ' as character references.
std::string html_text(std::string_view bytes);

// The first `max_code_points` code points of well-formed UTF-8 `text`, with "…" when cut.
std::string shorten_utf8(const std::string& text, size_t max_code_points);

}  // namespace dumpscope::diagnosis
