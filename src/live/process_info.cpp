#include "live/process_info.h"

#include "live/proc_files.h"
#include "procfs/cmdline.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

// Best-effort read: gone -> error (the process exited); other failures -> note, empty text.
Result<std::string> read_optional(int32_t pid, const std::string& name,
                                  std::vector<std::string>& notes) {
    int err = 0;
    auto text = read_file_whole(proc_dir(pid) + "/" + name, &err);
    if (text) return text;
    if (is_gone_errno(err)) {
        return Error{"process " + std::to_string(pid) + " exited during the dump"};
    }
    notes.push_back(text.error().message);
    return std::string();
}

}  // namespace

Result<std::string> read_required_proc_file(int32_t pid, const std::string& relative_path) {
    int err = 0;
    auto text = read_file_whole(proc_dir(pid) + "/" + relative_path, &err);
    if (!text && is_gone_errno(err)) {
        return Error{"process " + std::to_string(pid) + " exited during the dump"};
    }
    return text;
}

Result<ProcessInfo> read_process_info(int32_t pid, uint64_t boot_time_unix,
                                      std::vector<std::string>& notes) {
    ProcessInfo info;
    info.pid = pid;
    auto status = read_required_proc_file(pid, "status");
    if (!status) return status.error();
    info.status = std::move(status).value();
    auto stat_text = read_required_proc_file(pid, "stat");
    if (!stat_text) return stat_text.error();
    info.stat = std::move(stat_text).value();
    auto maps = read_required_proc_file(pid, "maps");
    if (!maps) return maps.error();
    info.maps = std::move(maps).value();

    auto stat = parse_stat(info.stat);
    if (!stat) return stat.error();
    info.ppid = stat->ppid;
    info.name = stat->comm;
    info.user_time_ns = ticks_to_ns(stat->utime_ticks);
    info.kernel_time_ns = ticks_to_ns(stat->stime_ticks);
    info.start_time_unix_ns =
        boot_time_unix * 1'000'000'000ull + ticks_to_ns(stat->starttime_ticks);
    info.arg_start = stat->arg_start;
    info.arg_end = stat->arg_end;
    info.env_start = stat->env_start;
    info.env_end = stat->env_end;
    if (auto uid = status_number(info.status, "Uid")) info.uid = static_cast<uint32_t>(*uid);
    if (auto gid = status_number(info.status, "Gid")) info.gid = static_cast<uint32_t>(*gid);

    auto cmdline = read_optional(pid, "cmdline", notes);
    if (!cmdline) return cmdline.error();
    info.cmdline = std::move(cmdline).value();
    info.argv = split_nul(info.cmdline);
    auto environ_text = read_optional(pid, "environ", notes);
    if (!environ_text) return environ_text.error();
    info.environ = std::move(environ_text).value();
    auto auxv = read_optional(pid, "auxv", notes);
    if (!auxv) return auxv.error();
    info.auxv.assign(auxv->begin(), auxv->end());

    int err = 0;
    auto exe = read_link(proc_dir(pid) + "/exe", &err);
    if (exe) {
        info.exe = std::move(exe).value();
    } else if (err != ENOENT) {  // ENOENT also means "no executable" (kernel threads)
        notes.push_back(exe.error().message);
    }
    return info;
}

}  // namespace dumpscope
