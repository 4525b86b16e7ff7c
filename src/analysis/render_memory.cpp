// db / dw / dd / dq / da ADDR [L<count> | LEN]: memory as WinDbg prints it, with ?? for every byte
// the dump does not hold. Addresses are hexadecimal (WinDbg's default radix; 0x and ` allowed);
// L<count> counts units in hexadecimal, a plain LEN counts bytes (C syntax: 64, 0x40).
#include <fmt/format.h>

#include <cctype>

#include "analysis/command.h"
#include "analysis/memory_text.h"

namespace dumpscope::analysis {

namespace {

constexpr uint64_t kDefaultBytes = 128;
constexpr uint64_t kMaxBytes = 1u << 20;
constexpr uint64_t kMaxString = 4096;

struct Unit {
    char verb;
    unsigned size;
};

Result<Unit> unit_of(const std::string& verb) {
    if (verb == "db") return Unit{'b', 1};
    if (verb == "dw") return Unit{'w', 2};
    if (verb == "dd") return Unit{'d', 4};
    if (verb == "dq") return Unit{'q', 8};
    if (verb == "da") return Unit{'a', 1};
    return Error{"unknown memory format '" + verb + "' (db, dw, dd, dq or da)"};
}

Result<uint64_t> length_of(const std::string& text, unsigned unit) {
    if (!text.empty() && (text[0] == 'L' || text[0] == 'l')) {
        auto count = parse_windbg_number(text.substr(1));
        if (!count.ok()) return count.error();
        if (*count > kMaxBytes / unit) return Error{"at most 1 MiB at a time"};
        return *count * unit;
    }
    errno = 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno != 0) return Error{"not a length: " + text};
    if (value > kMaxBytes) return Error{"at most 1 MiB at a time"};
    return static_cast<uint64_t>(value);
}

std::string byte_text(const MemoryBytes& bytes, uint64_t i) {
    return bytes.present(i) ? fmt::format("{:02x}", bytes.data[i]) : "??";
}

// A unit of `size` bytes, little-endian, or ?s if any of its bytes is missing.
std::string unit_text(const MemoryBytes& bytes, uint64_t at, unsigned size) {
    for (unsigned k = 0; k < size; ++k) {
        if (!bytes.present(at + k)) {
            return size == 8 ? "????????`????????" : std::string(2 * size_t{size}, '?');
        }
    }
    uint64_t value = 0;
    for (unsigned k = 0; k < size; ++k) value |= uint64_t{bytes.data[at + k]} << (8 * k);
    if (size == 8) return windbg_pointer(value);
    return fmt::format("{:0{}x}", value, size * 2);
}

std::string dump_units(const MemoryBytes& bytes, Unit unit) {
    std::string out;
    const uint64_t per_line = 16;
    for (uint64_t line = 0; line < bytes.data.size(); line += per_line) {
        out += windbg_pointer(bytes.address + line) + "  ";
        const uint64_t end = std::min<uint64_t>(line + per_line, bytes.data.size());
        std::string ascii;
        for (uint64_t at = line; at < end; at += unit.size) {
            if (unit.size == 1) {
                out += byte_text(bytes, at);
                out += at + 1 == line + 8 && at + 1 < end ? "-" : " ";
                const uint8_t c = bytes.data[at];
                ascii += bytes.present(at) ? (std::isprint(c) ? static_cast<char>(c) : '.') : '?';
            } else {
                out += unit_text(bytes, at, unit.size) + " ";
            }
        }
        if (unit.size == 1) {
            out += std::string((line + per_line - end) * 3, ' ') + " " + ascii;
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        out += "\n";
    }
    return out;
}

nlohmann::json bytes_json(const MemoryBytes& bytes) {
    nlohmann::json values = nlohmann::json::array();
    for (uint64_t i = 0; i < bytes.data.size(); ++i) {
        values.push_back(bytes.present(i) ? nlohmann::json(bytes.data[i]) : nlohmann::json());
    }
    return values;
}

}  // namespace

Result<CommandOutput> command_memory(DumpAnalysis& dump, const CommandArgs& args) {
    if (args.size() < 2 || args.size() > 3) {
        return Error{"usage: db|dw|dd|dq|da ADDR [L<count> | LEN]"};
    }
    auto unit = unit_of(args[0]);
    if (!unit.ok()) return unit.error();
    auto address = parse_windbg_number(args[1]);
    if (!address.ok()) return address.error();
    uint64_t length = unit->verb == 'a' ? kMaxString : kDefaultBytes;
    if (args.size() == 3) {
        auto given = length_of(args[2], unit->size);
        if (!given.ok()) return given.error();
        length = *given;
    }
    const MemoryBytes bytes = read_memory_bytes(dump.snapshot(), *address, length);
    if (length > 0 && bytes.data.empty())
        return Error{fmt::format("{:#x} is the end of the 64-bit address space: no memory follows",
                                 *address)};
    // read_memory_bytes stops at the end of the address space.
    const std::string cut =
        bytes.data.size() < length
            ? fmt::format("(cut at the end of the address space: {} of {} bytes)\n",
                          bytes.data.size(), length)
            : std::string();
    CommandOutput out;
    if (unit->verb == 'a') {
        const AsciiString text = ascii_string(bytes);
        out.text = windbg_pointer(*address) + "  \"" + text.printable + "\"" +
                   (text.complete ? "" : "  (the rest is not in the dump)") + "\n";
        out.json = {{"address", *address}, {"string", text.value}, {"complete", text.complete}};
        return out;
    }
    out.text = dump_units(bytes, *unit) + cut;
    out.json = {{"address", *address},
                {"length", length},
                {"bytes_in_dump", bytes.present_count()},
                {"bytes", bytes_json(bytes)}};
    return out;
}

}  // namespace dumpscope::analysis
