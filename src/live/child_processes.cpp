#include "live/child_processes.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "live/proc_files.h"
#include "procfs/status_parser.h"

namespace dumpscope {

std::vector<int32_t> list_children(int32_t pid) {
    std::vector<int32_t> children;
    auto tids = list_numeric_dir(proc_dir(pid) + "/task");
    if (!tids.ok()) return children;
    for (int32_t tid : *tids) {
        auto text = read_file_whole(task_dir(pid, tid) + "/children");
        if (!text.ok()) continue;
        std::istringstream in(*text);
        for (int32_t child = 0; in >> child;) children.push_back(child);
    }
    std::sort(children.begin(), children.end());
    children.erase(std::unique(children.begin(), children.end()), children.end());
    return children;
}

std::optional<ChildFacts> read_child_facts(int32_t pid) {
    auto stat = read_file_whole(proc_dir(pid) + "/stat");
    auto status = read_file_whole(proc_dir(pid) + "/status");
    if (!stat.ok() || !status.ok()) return std::nullopt;
    const size_t paren = stat->rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    // Fields from 3 (state) on, after the comm's closing parenthesis.
    std::istringstream in(stat->substr(paren + 1));
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    if (fields.size() < 36) return std::nullopt;
    ChildFacts facts;
    facts.pid = pid;
    facts.state = fields[0].empty() ? '?' : fields[0][0];
    uint64_t value = 0;
    if (parse_u64(fields[1], value)) facts.ppid = static_cast<int32_t>(value);      // field 4
    if (parse_u64(fields[19], value)) facts.starttime_ticks = value;                // field 22
    if (parse_u64(fields[35], value)) facts.exit_signal = static_cast<int>(value);  // field 38
    facts.tracer = static_cast<int32_t>(status_number(*status, "TracerPid").value_or(0));
    facts.innermost_pid = pid;
    if (auto nspid = status_field(*status, "NSpid")) {
        std::istringstream ids(*nspid);
        for (int32_t id = 0; ids >> id;) facts.innermost_pid = id;
    }
    return facts;
}

uint64_t boottime_ticks_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    const long hz = ::sysconf(_SC_CLK_TCK);
    const uint64_t ticks_per_second = hz > 0 ? static_cast<uint64_t>(hz) : 100;
    return static_cast<uint64_t>(ts.tv_sec) * ticks_per_second +
           static_cast<uint64_t>(ts.tv_nsec) / (1000000000 / ticks_per_second);
}

}  // namespace dumpscope
