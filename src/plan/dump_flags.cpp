#include "plan/dump_flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dumpscope {

const std::vector<DumpFlagInfo>& all_dump_flags() {
    static const std::vector<DumpFlagInfo> flags = {
#define DS_DUMP_FLAG(name, value, linux_meaning, description) \
    {#name, value, linux_meaning, description},
#include "plan/dump_flags.def"
#undef DS_DUMP_FLAG
    };
    return flags;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

Result<uint32_t> parse_dump_flags(std::string_view list) {
    uint32_t bits = 0;
    while (!list.empty()) {
        const size_t sep = list.find_first_of(",|+");
        std::string_view word = trim(list.substr(0, sep));
        list = sep == std::string_view::npos ? std::string_view{} : list.substr(sep + 1);
        if (word.empty()) continue;
        if (word.size() > 8 && iequals(word.substr(0, 8), "MiniDump")) word.remove_prefix(8);
        if (word.size() > 2 && (word.substr(0, 2) == "0x" || word.substr(0, 2) == "0X")) {
            char* end = nullptr;
            const std::string text(word);
            const unsigned long value = std::strtoul(text.c_str(), &end, 16);
            if (*end != '\0' || value > 0xffffffffUL) return Error{"bad dump flag value: " + text};
            bits |= static_cast<uint32_t>(value);
            continue;
        }
        auto it = std::find_if(all_dump_flags().begin(), all_dump_flags().end(),
                               [&](const DumpFlagInfo& f) { return iequals(f.name, word); });
        if (it == all_dump_flags().end())
            return Error{
                fmt::format("unknown dump flag '{}' (see dumpscope collect --list-flags)", word)};
        bits |= it->value;
    }
    return bits;
}

std::string dump_flags_to_string(uint32_t flags) {
    if (flags == 0) return "Normal";
    std::string out;
    uint32_t known = 0;
    for (const auto& f : all_dump_flags()) {
        if (f.value == 0 || (flags & f.value) != f.value) continue;
        if (!out.empty()) out += '|';
        out += f.name;
        known |= f.value;
    }
    if (flags & ~known) out += fmt::format("{}{:#x}", out.empty() ? "" : "|", flags & ~known);
    return out;
}

}  // namespace dumpscope
