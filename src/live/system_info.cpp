#include "live/system_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "live/proc_files.h"
#include "procfs/cpuinfo.h"

namespace dumpscope {

Result<SystemInfo> read_system_info() {
    SystemInfo info;
    utsname names{};
    if (::uname(&names) != 0) return errno_error("uname");
    info.sysname = names.sysname;
    info.nodename = names.nodename;
    info.release = names.release;
    info.version = names.version;
    info.machine = names.machine;

    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    info.cpu_count = online > 0 ? static_cast<uint32_t>(online) : 1;
    long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0) info.page_size = static_cast<uint64_t>(page);

    if (auto cpuinfo = read_file_whole("/proc/cpuinfo")) {
        info.cpuinfo = std::move(cpuinfo).value();
        parse_cpuinfo(info.cpuinfo, info);
    }
    if (auto release = read_file_whole("/etc/os-release")) {
        info.os_release = std::move(release).value();
    } else if (auto fallback = read_file_whole("/usr/lib/os-release")) {
        info.os_release = std::move(fallback).value();
    }
    if (auto stat = read_file_whole("/proc/stat")) info.boot_time_unix = parse_boot_time(*stat);
    return info;
}

}  // namespace dumpscope
