#include "analysis/memory_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dumpscope::analysis {

uint64_t MemoryBytes::present_count() const {
    return static_cast<uint64_t>(std::count(in_dump.begin(), in_dump.end(), true));
}

MemoryBytes read_memory_bytes(const Snapshot& snapshot, uint64_t address, uint64_t length) {
    MemoryBytes bytes;
    bytes.address = address;
    length = std::min(length, UINT64_MAX - address);
    bytes.data.assign(length, 0);
    bytes.in_dump.assign(length, false);
    if (!snapshot.memory) return bytes;
    uint64_t at = 0;
    while (at < length) {
        auto got = snapshot.memory->read(address + at,
                                         std::span<uint8_t>(bytes.data.data() + at, length - at));
        const uint64_t n = got.ok() ? *got : 0;
        std::fill(bytes.in_dump.begin() + static_cast<long>(at),
                  bytes.in_dump.begin() + static_cast<long>(at + n), true);
        at += n;
        if (at >= length) break;
        // A byte the dump does not hold: skip what of its page the dump lacks entirely, else step
        // to the next byte (ranges of minidumps need not start on a page boundary).
        const uint64_t page_rest = std::min(length - at, 4096 - (address + at) % 4096);
        at += snapshot.memory->bytes_present(address + at, page_rest) == 0 ? page_rest : 1;
    }
    return bytes;
}

AsciiString ascii_string(const MemoryBytes& bytes) {
    AsciiString out;
    for (uint64_t i = 0; i < bytes.data.size(); ++i) {
        if (!bytes.present(i)) return out;
        const uint8_t c = bytes.data[i];
        if (c == 0) {
            out.complete = true;
            return out;
        }
        out.value += static_cast<char>(c);
        out.printable +=
            std::isprint(c) ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
    }
    return out;
}

Result<uint64_t> parse_windbg_number(const std::string& text) {
    std::string digits;
    for (char c : text) {
        if (c != '`') digits += c;
    }
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits = digits.substr(2);
    }
    if (digits.empty() || digits.size() > 16 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
        return Error{"not a hexadecimal number: " + text};
    }
    return std::stoull(digits, nullptr, 16);
}

}  // namespace dumpscope::analysis
