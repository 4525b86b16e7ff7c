#include "elfcore/proc_fields.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace dumpscope::elfcore {

namespace {

template <typename T>
T parse_number(std::string_view text, int base = 10) {
    T value{};
    std::from_chars(text.data(), text.data() + text.size(), value, base);
    return value;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

ProcStatFields parse_proc_stat(std::string_view stat) {
    ProcStatFields out;
    // "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
    const size_t close = stat.rfind(')');
    if (close == std::string_view::npos) return out;
    std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
    std::string_view rest = stat.substr(close + 1);
    while (!rest.empty()) {
        const size_t start = rest.find_first_not_of(" \n");
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
        fields.push_back(rest.substr(0, end));
        rest.remove_prefix(end);
    }
    auto field = [&](size_t number) -> std::string_view {  // 1-based as in proc(5)
        return number >= 3 && number - 3 < fields.size() ? fields[number - 3] : std::string_view{};
    };
    out.pgrp = parse_number<int32_t>(field(5));
    out.session = parse_number<int32_t>(field(6));
    out.flags = parse_number<uint64_t>(field(9));
    out.cutime_ticks = parse_number<uint64_t>(field(16));
    out.cstime_ticks = parse_number<uint64_t>(field(17));
    return out;
}

ProcSignalMasks parse_proc_status_signals(std::string_view status) {
    ProcSignalMasks out;
    while (!status.empty()) {
        const size_t eol = std::min(status.find('\n'), status.size());
        const std::string_view line = status.substr(0, eol);
        status.remove_prefix(std::min(eol + 1, status.size()));
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (key == "SigPnd") out.pending = parse_number<uint64_t>(value, 16);
        if (key == "SigBlk") out.blocked = parse_number<uint64_t>(value, 16);
    }
    return out;
}

}  // namespace dumpscope::elfcore
