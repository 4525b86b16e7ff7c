#include "procfs/stat_parser.h"

#include <unistd.h>

#include <charconv>
#include <vector>

namespace dumpscope {

namespace {

template <typename T>
bool to_number(std::string_view text, T& out) {
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 10);
    return ec == std::errc() && ptr == text.data() + text.size();
}

Error bad_stat(std::string_view text, const char* why) {
    return Error{std::string("malformed stat line (") + why + "): \"" +
                 std::string(text.substr(0, 200)) + "\""};
}

}  // namespace

Result<ProcStat> parse_stat(std::string_view text) {
    size_t open = text.find('(');
    size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return bad_stat(text, "no comm");
    }
    ProcStat stat;
    std::string_view pid_text = text.substr(0, open);
    while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
    if (!to_number(pid_text, stat.pid)) return bad_stat(text, "pid");
    stat.comm = std::string(text.substr(open + 1, close - open - 1));

    // fields[0] is field 3 (state).
    std::vector<std::string_view> fields;
    std::string_view rest = text.substr(close + 1);
    while (!rest.empty()) {
        size_t begin = rest.find_first_not_of(" \n");
        if (begin == std::string_view::npos) break;
        rest.remove_prefix(begin);
        size_t end = rest.find_first_of(" \n");
        fields.push_back(rest.substr(0, end));
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    auto field = [&](int number) -> std::string_view {
        size_t index = static_cast<size_t>(number - 3);
        return index < fields.size() ? fields[index] : std::string_view{};
    };
    if (fields.size() < 20 || field(3).size() != 1) return bad_stat(text, "too few fields");
    stat.state = field(3)[0];
    bool ok = to_number(field(4), stat.ppid) && to_number(field(9), stat.flags) &&
              to_number(field(14), stat.utime_ticks) && to_number(field(15), stat.stime_ticks) &&
              to_number(field(18), stat.priority) && to_number(field(19), stat.nice) &&
              to_number(field(20), stat.num_threads) && to_number(field(22), stat.starttime_ticks);
    if (!ok) return bad_stat(text, "bad number");
    // Fields 48-51 exist since Linux 3.5; older kernels simply lack them.
    if (fields.size() >= 49) {
        ok = to_number(field(48), stat.arg_start) && to_number(field(49), stat.arg_end) &&
             to_number(field(50), stat.env_start) && to_number(field(51), stat.env_end);
        if (!ok) return bad_stat(text, "bad arg/env address");
    }
    return stat;
}

uint64_t ticks_to_ns(uint64_t ticks, uint64_t ticks_per_second) {
    if (ticks_per_second == 0) ticks_per_second = 100;
    constexpr uint64_t kNsPerSecond = 1'000'000'000;
    return ticks / ticks_per_second * kNsPerSecond +
           ticks % ticks_per_second * kNsPerSecond / ticks_per_second;
}

uint64_t ticks_to_ns(uint64_t ticks) {
    static const uint64_t hz = [] {
        long value = ::sysconf(_SC_CLK_TCK);
        return value > 0 ? static_cast<uint64_t>(value) : uint64_t{100};
    }();
    return ticks_to_ns(ticks, hz);
}

}  // namespace dumpscope
