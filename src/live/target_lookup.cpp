#include "live/target_lookup.h"

#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "common/paths.h"
#include "live/proc_files.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

struct Candidate {
    int32_t pid = 0;
    std::string cmdline;  // NULs turned into spaces, shortened
};

bool all_digits(const std::string& text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string printable_cmdline(std::string raw) {
    while (!raw.empty() && raw.back() == '\0') raw.pop_back();
    std::replace(raw.begin(), raw.end(), '\0', ' ');
    constexpr size_t kMax = 60;
    if (raw.size() > kMax) raw = raw.substr(0, kMax - 3) + "...";
    return raw;
}

// Does process pid answer to name? Kernel threads and zombies never do (nothing to dump).
bool matches(int32_t pid, const std::string& name, std::string& cmdline_out) {
    auto stat_text = read_file_whole(proc_dir(pid) + "/stat");
    if (!stat_text) return false;
    auto stat = parse_stat(*stat_text);
    if (!stat || (stat->flags & kPfKthread) != 0 || stat->state == 'Z' || stat->state == 'X') {
        return false;
    }
    auto cmdline = read_file_whole(proc_dir(pid) + "/cmdline");
    std::string raw = cmdline ? std::move(cmdline).value() : std::string();
    std::string_view argv0(raw.data(), std::min(raw.size(), raw.find('\0')));
    if (stat->comm != name && base_name(argv0) != name) return false;
    cmdline_out = printable_cmdline(std::move(raw));
    return true;
}

// The thread group of pid (a thread id given on the command line means its process).
Result<int32_t> process_of(int32_t pid) {
    int err = 0;
    auto status = read_file_whole(proc_dir(pid) + "/status", &err);
    if (!status) {
        if (is_gone_errno(err)) return Error{"no such process: " + std::to_string(pid)};
        return status.error();
    }
    auto tgid = status_number(*status, "Tgid");
    return tgid && *tgid > 0 ? static_cast<int32_t>(*tgid) : pid;
}

}  // namespace

Result<std::vector<int32_t>> processes_named(const std::string& name) {
    auto pids = list_numeric_dir("/proc");
    if (!pids) return pids.error();
    const int32_t self = ::getpid();
    std::vector<int32_t> found;
    for (int32_t pid : *pids) {
        std::string cmdline;
        if (pid != self && matches(pid, name, cmdline)) found.push_back(pid);
    }
    return found;
}

Result<int32_t> resolve_target(const std::string& pid_or_name) {
    if (pid_or_name.empty()) return Error{"no target given: expected a PID or a process name"};
    if (all_digits(pid_or_name)) {
        uint64_t pid = 0;
        if (!parse_u64(pid_or_name, pid) || pid == 0 || pid > INT32_MAX) {
            return Error{"no such process: " + pid_or_name};
        }
        return process_of(static_cast<int32_t>(pid));
    }

    auto pids = list_numeric_dir("/proc");
    if (!pids) return pids.error();
    const int32_t self = ::getpid();
    std::vector<Candidate> found;
    for (int32_t pid : *pids) {
        std::string cmdline;
        if (pid != self && matches(pid, pid_or_name, cmdline)) found.push_back({pid, cmdline});
    }
    if (found.empty()) return Error{"no process named " + pid_or_name};
    if (found.size() == 1) return found[0].pid;
    std::string message =
        std::to_string(found.size()) + " processes are named " + pid_or_name + ":";
    for (size_t i = 0; i < found.size(); ++i) {
        message +=
            (i == 0 ? " " : ", ") + std::to_string(found[i].pid) + " (" + found[i].cmdline + ")";
    }
    return Error{message + "; give a PID"};
}

}  // namespace dumpscope
