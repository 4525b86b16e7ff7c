#include "live/clone_preflight.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>

#include "common/units.h"
#include "live/proc_files.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

constexpr int kCapSysAdmin = 21;
constexpr uint64_t kFixedMargin = 64u << 20;

std::optional<uint64_t> read_number_file(const std::string& path) {
    auto text = read_file_whole(path);
    uint64_t value = 0;
    if (!text.ok() || !parse_u64(chomp(*text), value)) return std::nullopt;  // "max" too
    return value;
}

// The least free room among the memory cgroups (v2 memory.max, v1 memory.limit_in_bytes) from
// the target's own up to the root; nullopt when none is limited.
std::optional<uint64_t> cgroup_room(int32_t pid, std::string& where) {
    auto text = read_file_whole(proc_dir(pid) + "/cgroup");
    if (!text.ok()) return std::nullopt;
    std::optional<uint64_t> least;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
        const size_t a = line.find(':');
        const size_t b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        std::string path = line.substr(b + 1);
        std::string root, limit_file, usage_file;
        if (line.compare(0, a, "0") == 0 && controllers.empty()) {
            root = "/sys/fs/cgroup";
            limit_file = "memory.max";
            usage_file = "memory.current";
        } else if (controllers == "memory") {
            root = "/sys/fs/cgroup/memory";
            limit_file = "memory.limit_in_bytes";
            usage_file = "memory.usage_in_bytes";
        } else {
            continue;
        }
        for (;;) {
            const std::string dir = root + (path == "/" ? "" : path);
            auto limit = read_number_file(fmt::format("{}/{}", dir, limit_file));
            auto usage = read_number_file(fmt::format("{}/{}", dir, usage_file));
            if (limit && usage && *limit < (uint64_t{1} << 62)) {
                const uint64_t room = *limit > *usage ? *limit - *usage : 0;
                if (!least || room < *least) {
                    least = room;
                    where = "the free room of memory cgroup " + path;
                }
            }
            if (path == "/" || path.empty()) break;
            const size_t slash = path.rfind('/');
            path = slash == 0 ? "/" : path.substr(0, slash);
        }
    }
    return least;
}

}  // namespace

Status check_copy_on_write_room(int32_t pid) {
    auto status = read_file_whole(proc_dir(pid) + "/status");
    auto meminfo = read_file_whole("/proc/meminfo");
    if (!status.ok()) return Error{fmt::format("no such process: {}", pid)};
    if (!meminfo.ok()) return Error{"cannot read /proc/meminfo: " + meminfo.error().message};
    const uint64_t anon = static_cast<uint64_t>(status_number(*status, "RssAnon").value_or(0));
    const uint64_t swap = static_cast<uint64_t>(status_number(*status, "VmSwap").value_or(0));
    const uint64_t at_risk = (anon + swap) * 1024;
    const uint64_t needed = at_risk + at_risk / 8 + kFixedMargin;
    auto available_kib = status_number(*meminfo, "MemAvailable");
    if (!available_kib) return Error{"no MemAvailable in /proc/meminfo"};
    uint64_t available = static_cast<uint64_t>(*available_kib) * 1024;
    std::string where = "MemAvailable";
    std::string cgroup_where;
    if (auto room = cgroup_room(pid, cgroup_where); room && *room < available) {
        available = *room;
        where = cgroup_where;
    }
    if (available >= needed) return {};
    return Error{fmt::format(
        "not enough memory for copy-on-write: the target could rewrite {} of private memory "
        "during the dump, {} would be needed and {} is {}",
        human_bytes(at_risk), human_bytes(needed), where, human_bytes(available))};
}

int seccomp_mode(int32_t pid, int32_t tid) {
    auto status = read_file_whole(task_dir(pid, tid) + "/status");
    if (!status.ok()) return -1;
    return static_cast<int>(status_number(*status, "Seccomp").value_or(-1));
}

bool can_suspend_seccomp() {
    auto status = read_file_whole("/proc/self/status");
    if (!status.ok()) return false;
    auto caps = status_field(*status, "CapEff");
    uint64_t effective = 0;
    if (!caps || !parse_u64(*caps, effective, 16)) return false;
    const bool admin = (effective >> kCapSysAdmin) & 1;
    return admin && status_number(*status, "Seccomp").value_or(1) == 0;
}

}  // namespace dumpscope
