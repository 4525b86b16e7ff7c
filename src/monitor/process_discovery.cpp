#include "monitor/process_discovery.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "live/proc_files.h"
#include "live/target_lookup.h"
#include "procfs/stat_parser.h"

namespace dumpscope {

namespace {

bool all_digits(const std::string& text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// /proc/PID/stat after the comm: "state ppid pgrp ...".
bool in_group(int32_t pid, int32_t pgid) {
    auto text = read_file_whole(proc_dir(pid) + "/stat");
    if (!text) return false;
    const size_t paren = text->rfind(')');
    if (paren == std::string::npos) return false;
    std::istringstream fields(text->substr(paren + 1));
    char state = '?';
    int64_t ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    return fields && pgrp == pgid && state != 'Z' && state != 'X';
}

// Start time in clock ticks after boot: with the pid, the identity of a process (pids are
// reused).
uint64_t start_time(int32_t pid) {
    auto text = read_file_whole(proc_dir(pid) + "/stat");
    if (!text) return 0;
    auto stat = parse_stat(*text);
    return stat ? stat->starttime_ticks : 0;
}

}  // namespace

Result<std::vector<int32_t>> processes_in_group(int32_t pgid) {
    auto pids = list_numeric_dir("/proc");
    if (!pids) return pids.error();
    std::vector<int32_t> members;
    const int32_t self = ::getpid();
    for (int32_t pid : *pids)
        if (pid != self && in_group(pid, pgid)) members.push_back(pid);
    return members;
}

Result<ProcessDiscovery> ProcessDiscovery::create(const DiscoveryOptions& options) {
    if (options.target.empty())
        return Error{"no target given: expected a PID, a process name or (--pgid) a group id"};
    ProcessDiscovery discovery(options);
    if (options.pgid) {
        uint64_t group = 0;
        if (!all_digits(options.target) || !parse_u64(options.target, group) || group == 0 ||
            group > INT32_MAX)
            return Error{"--pgid needs a process group id, not " + options.target};
        discovery.group_ = static_cast<int32_t>(group);
    } else if ((options.wait || options.all) && all_digits(options.target)) {
        return Error{"--wait and --all need a process name, not a PID"};
    }
    return discovery;
}

Result<std::vector<int32_t>> ProcessDiscovery::candidates() {
    if (options_.pgid) return processes_in_group(group_);
    if (options_.wait || options_.all) return processes_named(options_.target);
    auto pid = resolve_target(options_.target);
    if (!pid) return pid.error();
    return std::vector<int32_t>{*pid};
}

Result<std::vector<int32_t>> ProcessDiscovery::poll() {
    if (finished_) return std::vector<int32_t>{};
    auto found = candidates();
    if (!found) return found.error();
    if (options_.pgid && found->empty()) {
        if (seen_.empty()) return Error{fmt::format("no process in group {}", group_)};
        finished_ = true;  // an empty group never gets members again
        return std::vector<int32_t>{};
    }
    if (!options_.all && !options_.pgid) {
        if (found->size() > 1) {
            std::string list;
            for (int32_t pid : *found) list += (list.empty() ? "" : ", ") + std::to_string(pid);
            return Error{fmt::format("{} processes are named {}: {}; give a PID or use --all",
                                     found->size(), options_.target, list)};
        }
        if (!found->empty()) finished_ = true;
    }
    std::vector<int32_t> fresh;
    for (int32_t pid : *found) {
        const std::pair<int32_t, uint64_t> identity{pid, start_time(pid)};
        if (std::find(seen_.begin(), seen_.end(), identity) != seen_.end()) continue;
        seen_.push_back(identity);
        fresh.push_back(pid);
    }
    return fresh;
}

std::string ProcessDiscovery::describe() const {
    if (options_.pgid) return fmt::format("process group {}", group_);
    if (options_.all) return "every process named " + options_.target;
    if (options_.wait) return "a process named " + options_.target;
    return "process " + options_.target;
}

}  // namespace dumpscope
