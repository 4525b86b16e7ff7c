// UTF-8 <-> UTF-16LE conversion for MINIDUMP_STRING (module names, thread names, the CSD string).
// Both directions are total: malformed input becomes U+FFFD, never an error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dumpscope::minidump {

// UTF-16LE bytes of `utf8`, without a terminator.
std::vector<uint8_t> utf8_to_utf16le(std::string_view utf8);

// UTF-8 text of UTF-16LE bytes (an odd trailing byte is ignored; stops at a NUL code unit).
std::string utf16le_to_utf8(std::span<const uint8_t> utf16le);

}  // namespace dumpscope::minidump
