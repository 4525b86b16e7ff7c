#include "procfs/syscall_parse.h"

#include <charconv>
#include <string>
#include <vector>

namespace dumpscope {

namespace {

bool parse_hex_word(std::string_view text, uint64_t& out) {
    if (text.substr(0, 2) == "0x") text.remove_prefix(2);
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::optional<SyscallState> parse_proc_syscall(std::string_view text) {
    std::vector<std::string_view> words;
    while (!text.empty()) {
        size_t begin = text.find_first_not_of(" \n");
        if (begin == std::string_view::npos) break;
        text.remove_prefix(begin);
        size_t end = text.find_first_of(" \n");
        words.push_back(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    }
    if (words.empty()) return std::nullopt;
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(words[0].data(), words[0].data() + words[0].size(), number);
    if (ec != std::errc() || ptr != words[0].data() + words[0].size()) return std::nullopt;
    SyscallState state;
    if (number < 0) return state;  // "-1 sp pc": blocked, but not in a system call
    if (words.size() < 7) return std::nullopt;
    state.in_syscall = true;
    state.number = number;
    for (size_t i = 0; i < state.args.size(); ++i) {
        if (!parse_hex_word(words[i + 1], state.args[i])) return std::nullopt;
    }
    return state;
}

}  // namespace dumpscope
