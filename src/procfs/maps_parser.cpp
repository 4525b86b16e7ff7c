#include "procfs/maps_parser.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace dumpscope {

namespace {

// Splits off the next space-delimited token (skipping leading spaces).
std::string_view next_token(std::string_view& rest) {
    size_t begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(begin);
    size_t end = rest.find(' ');
    std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return token;
}

bool parse_hex(std::string_view text, uint64_t& out) {
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_dec(std::string_view text, uint64_t& out) {
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 10);
    return ec == std::errc() && ptr == text.data() + text.size();
}

Error bad_line(std::string_view line) {
    return Error{"malformed maps line: \"" + std::string(line.substr(0, 200)) + "\""};
}

// smaps entry headers look like maps lines: "start-end perms ...". Returns the start or false.
bool smaps_header_start(std::string_view line, uint64_t& start) {
    size_t dash = line.find('-');
    if (dash == std::string_view::npos || dash == 0) return false;
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space < dash) return false;
    return parse_hex(line.substr(0, dash), start);
}

void apply_flags(std::string_view flags, Mapping& mapping) {
    std::string_view rest = flags;
    for (std::string_view flag = next_token(rest); !flag.empty(); flag = next_token(rest)) {
        if (flag == "dc") mapping.dont_fork = true;
        if (flag == "wf") mapping.wipe_on_fork = true;
        if (flag == "io" || flag == "pf") mapping.io = true;
    }
}

}  // namespace

Result<Mapping> parse_maps_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::string_view rest = line;
    std::string_view range = next_token(rest);
    std::string_view perms = next_token(rest);
    std::string_view offset = next_token(rest);
    std::string_view device = next_token(rest);
    std::string_view inode = next_token(rest);

    Mapping m;
    size_t dash = range.find('-');
    size_t colon = device.find(':');
    uint64_t major = 0, minor = 0;
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), m.start) ||
        !parse_hex(range.substr(dash + 1), m.end) || m.end < m.start || perms.size() < 4 ||
        !parse_hex(offset, m.offset) || colon == std::string_view::npos ||
        !parse_hex(device.substr(0, colon), major) || !parse_hex(device.substr(colon + 1), minor) ||
        !parse_dec(inode, m.inode)) {
        return bad_line(line);
    }
    m.dev_major = static_cast<uint32_t>(major);
    m.dev_minor = static_cast<uint32_t>(minor);
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.shared = perms[3] == 's';
    // The path starts after the padding that follows the inode; it may contain spaces.
    size_t path_begin = rest.find_first_not_of(' ');
    if (path_begin != std::string_view::npos) m.path = std::string(rest.substr(path_begin));
    return m;
}

Result<std::vector<Mapping>> parse_maps(std::string_view text) {
    std::vector<Mapping> mappings;
    while (!text.empty()) {
        size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (line.empty()) continue;
        auto mapping = parse_maps_line(line);
        if (!mapping) return mapping.error();
        mappings.push_back(std::move(mapping).value());
    }
    std::sort(mappings.begin(), mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    return mappings;
}

void apply_smaps_vmflags(std::string_view smaps_text, std::vector<Mapping>& mappings) {
    Mapping* current = nullptr;
    constexpr std::string_view kVmFlags = "VmFlags:";
    while (!smaps_text.empty()) {
        size_t newline = smaps_text.find('\n');
        std::string_view line = smaps_text.substr(0, newline);
        smaps_text.remove_prefix(newline == std::string_view::npos ? smaps_text.size()
                                                                   : newline + 1);
        if (line.substr(0, kVmFlags.size()) == kVmFlags) {
            if (current != nullptr) apply_flags(line.substr(kVmFlags.size()), *current);
            continue;
        }
        uint64_t start = 0;
        // Field lines ("Rss:   4 kB") have no '-' before their first space; headers do.
        if (!smaps_header_start(line, start)) continue;
        auto it = std::lower_bound(mappings.begin(), mappings.end(), start,
                                   [](const Mapping& m, uint64_t s) { return m.start < s; });
        current = (it != mappings.end() && it->start == start) ? &*it : nullptr;
    }
}

}  // namespace dumpscope
