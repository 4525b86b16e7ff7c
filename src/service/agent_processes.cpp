#include "service/agent_processes.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/paths.h"
#include "live/proc_files.h"
#include "procfs/cmdline.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

constexpr size_t kMaxProcesses = 8192;
constexpr size_t kMaxCmdline = 1024;

std::string user_name(int64_t uid) {
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer, sizeof buffer, &found) == 0 &&
        found != nullptr)
        return found->pw_name;
    return std::to_string(uid);
}

// Seconds since boot (/proc/uptime's first field); 0 if unreadable.
double uptime_seconds() {
    auto text = read_file_whole("/proc/uptime");
    return text ? std::strtod(text->c_str(), nullptr) : 0;
}

std::string joined_cmdline(const std::string& raw) {
    std::string out;
    for (const std::string& arg : split_nul(raw)) out += (out.empty() ? "" : " ") + arg;
    if (out.size() > kMaxCmdline) out = out.substr(0, kMaxCmdline - 3) + "...";
    return out;
}

}  // namespace

bool allowed_by(const std::vector<std::string>& allow, const std::vector<std::string>& names) {
    if (allow.empty()) return true;
    for (const std::string& name : names)
        if (std::find(allow.begin(), allow.end(), name) != allow.end()) return true;
    return false;
}

Result<std::vector<std::string>> process_names(int32_t pid) {
    auto stat_text = read_file_whole(proc_dir(pid) + "/stat");
    if (!stat_text) return stat_text.error();
    auto stat = parse_stat(*stat_text);
    if (!stat) return stat.error();
    std::vector<std::string> names{stat->comm};
    auto cmdline = read_file_whole(proc_dir(pid) + "/cmdline");
    if (cmdline) {
        const std::vector<std::string> args = split_nul(*cmdline);
        if (!args.empty() && !args[0].empty()) names.push_back(base_name(args[0]));
    }
    return names;
}

Result<json> list_processes(const std::vector<std::string>& allow) {
    auto pids = list_numeric_dir("/proc");
    if (!pids) return pids.error();
    const double uptime = uptime_seconds();
    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    json out = json::array();
    for (const int32_t pid : *pids) {
        if (out.size() >= kMaxProcesses) break;
        // A process may end between the listing and the reads: it is left out.
        auto stat_text = read_file_whole(proc_dir(pid) + "/stat");
        if (!stat_text) continue;
        auto stat = parse_stat(*stat_text);
        if (!stat || (stat->flags & kPfKthread) != 0 || stat->state == 'Z' || stat->state == 'X')
            continue;
        auto status = read_file_whole(proc_dir(pid) + "/status");
        if (!status) continue;
        auto cmdline = read_file_whole(proc_dir(pid) + "/cmdline");
        const std::string raw = cmdline ? *cmdline : std::string();
        const double cpu_seconds =
            static_cast<double>(ticks_to_ns(stat->utime_ticks + stat->stime_ticks)) / 1e9;
        const double started = ticks_per_second > 0 ? static_cast<double>(stat->starttime_ticks) /
                                                          static_cast<double>(ticks_per_second)
                                                    : 0;
        const double alive = uptime - started;
        std::vector<std::string> names{stat->comm};
        const std::vector<std::string> args = split_nul(raw);
        if (!args.empty() && !args[0].empty()) names.push_back(base_name(args[0]));
        out.push_back(json{
            {"pid", pid},
            {"name", stat->comm},
            {"cmdline", joined_cmdline(raw)},
            {"user", user_name(status_number(*status, "Uid").value_or(-1))},
            {"rss_bytes", status_number(*status, "VmRSS").value_or(0) * 1024},
            {"cpu_seconds", cpu_seconds},
            {"cpu_percent", alive > 0 ? 100.0 * cpu_seconds / alive : 0.0},
            {"allowed", allowed_by(allow, names)},
        });
    }
    return out;
}

}  // namespace dumpscope::service
