#include "procfs/status_parser.h"

#include <charconv>

namespace dumpscope {

std::optional<std::string> status_field(std::string_view status, std::string_view key) {
    while (!status.empty()) {
        size_t newline = status.find('\n');
        std::string_view line = status.substr(0, newline);
        status.remove_prefix(newline == std::string_view::npos ? status.size() : newline + 1);
        if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
            line[key.size()] != ':') {
            continue;
        }
        std::string_view value = line.substr(key.size() + 1);
        size_t begin = value.find_first_not_of(" \t");
        if (begin == std::string_view::npos) return std::string();
        size_t end = value.find_last_not_of(" \t");
        return std::string(value.substr(begin, end - begin + 1));
    }
    return std::nullopt;
}

std::optional<int64_t> status_number(std::string_view status, std::string_view key) {
    auto value = status_field(status, key);
    if (!value) return std::nullopt;
    std::string_view text = *value;
    size_t end = text.find_first_of(" \t");
    text = text.substr(0, end);
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number, 10);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return number;
}

}  // namespace dumpscope
