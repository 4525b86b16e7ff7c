#include "procfs/cpuinfo.h"

#include <charconv>

namespace dumpscope {

namespace {

// "key\t\t: value" lines of /proc/cpuinfo; only the first block (first processor) counts.
std::string_view cpuinfo_value(std::string_view cpuinfo, std::string_view key) {
    while (!cpuinfo.empty()) {
        size_t newline = cpuinfo.find('\n');
        std::string_view line = cpuinfo.substr(0, newline);
        cpuinfo.remove_prefix(newline == std::string_view::npos ? cpuinfo.size() : newline + 1);
        if (line.empty()) break;  // end of the first processor's block
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        if (name != key) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return value;
    }
    return {};
}

uint32_t to_u32(std::string_view text) {
    uint32_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value, 10);
    return value;
}

}  // namespace

void parse_cpuinfo(std::string_view cpuinfo, SystemInfo& info) {
    info.cpu_vendor = std::string(cpuinfo_value(cpuinfo, "vendor_id"));
    info.cpu_family = to_u32(cpuinfo_value(cpuinfo, "cpu family"));
    info.cpu_model = to_u32(cpuinfo_value(cpuinfo, "model"));
    info.cpu_stepping = to_u32(cpuinfo_value(cpuinfo, "stepping"));
}

uint64_t parse_boot_time(std::string_view proc_stat) {
    constexpr std::string_view kKey = "btime ";
    size_t pos = 0;
    while (pos < proc_stat.size()) {
        size_t newline = proc_stat.find('\n', pos);
        std::string_view line = proc_stat.substr(pos, newline - pos);
        if (line.substr(0, kKey.size()) == kKey) {
            std::string_view value = line.substr(kKey.size());
            uint64_t seconds = 0;
            std::from_chars(value.data(), value.data() + value.size(), seconds, 10);
            return seconds;
        }
        if (newline == std::string_view::npos) break;
        pos = newline + 1;
    }
    return 0;
}

}  // namespace dumpscope
