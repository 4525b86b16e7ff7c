#include "live/ptrace_access.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "common/unique_fd.h"
#include "live/proc_files.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

constexpr int kCapSysPtrace = 19;

std::string describe_process(int64_t pid) {
    auto comm = read_file_whole(proc_dir(static_cast<int32_t>(pid)) + "/comm");
    return fmt::format("{} ({})", pid, comm ? chomp(*comm) : std::string("?"));
}

// "Uid:\t0\t0\t0\t0": real, effective, saved, filesystem.
std::vector<uint64_t> id_list(const std::string& status, const char* key) {
    std::vector<uint64_t> ids;
    auto field = status_field(status, key);
    if (!field) return ids;
    std::istringstream in(*field);
    for (uint64_t id = 0; in >> id;) ids.push_back(id);
    return ids;
}

bool have_cap_sys_ptrace() {
    auto status = read_file_whole("/proc/self/status");
    if (!status) return false;
    auto caps = status_field(*status, "CapEff");
    uint64_t bits = 0;
    return caps && parse_u64(*caps, bits, 16) && (bits >> kCapSysPtrace & 1) != 0;
}

// The kernel lets a tracer without CAP_SYS_PTRACE attach only when its uid and gid equal the
// target's real, effective and saved ids.
bool same_ids(const std::vector<uint64_t>& ids, uint64_t mine) {
    if (ids.size() < 3) return false;
    for (size_t i = 0; i < 3; ++i)
        if (ids[i] != mine) return false;
    return true;
}

std::string yama_reason(bool cap) {
    auto scope_text = read_file_whole("/proc/sys/kernel/yama/ptrace_scope");
    uint64_t scope = 0;
    if (!scope_text || !parse_u64(chomp(*scope_text), scope)) return {};
    if (scope == 1 && !cap)
        return "kernel.yama.ptrace_scope is 1: only a parent process may attach without "
               "CAP_SYS_PTRACE (run as root, or set it to 0)";
    if (scope == 2 && !cap)
        return "kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may attach (run as root)";
    if (scope >= 3) return "kernel.yama.ptrace_scope is 3: no process may attach until reboot";
    return {};
}

}  // namespace

std::string ptrace_refusal_reason(int32_t pid, int32_t tid) {
    auto status = read_file_whole(task_dir(pid, tid) + "/status");
    if (status) {
        auto tracer = status_number(*status, "TracerPid");
        if (tracer && *tracer != 0) return "already traced by " + describe_process(*tracer);
    }
    if (auto stat_text = read_file_whole(task_dir(pid, tid) + "/stat")) {
        auto stat = parse_stat(*stat_text);
        if (stat && (stat->flags & kPfKthread) != 0) return "it is a kernel thread";
    }
    const bool cap = have_cap_sys_ptrace();
    if (!cap && status) {
        const auto uids = id_list(*status, "Uid");
        const auto gids = id_list(*status, "Gid");
        if (!uids.empty() && !same_ids(uids, ::getuid()))
            return fmt::format(
                "it runs as uid {} and dumpscope as uid {}, without CAP_SYS_PTRACE; run "
                "dumpscope as uid {} or as root",
                uids[1], ::getuid(), uids[1]);
        if (!gids.empty() && !same_ids(gids, ::getgid()))
            return fmt::format(
                "its group ids ({}) differ from dumpscope's ({}), without CAP_SYS_PTRACE "
                "(a setgid program?); run dumpscope as root",
                fmt::join(gids, " "), ::getgid());
        // The files of a process that is not dumpable are owned by root (the /proc/PID
        // directory itself may keep the owner it had).
        struct stat st {};
        if (::stat((task_dir(pid, tid) + "/status").c_str(), &st) == 0 && !uids.empty() &&
            st.st_uid != uids[1])
            return "it is not dumpable (it changed credentials, e.g. a setuid program, or called "
                   "prctl(PR_SET_DUMPABLE, 0)); only root (CAP_SYS_PTRACE) can attach";
    }
    if (std::string yama = yama_reason(cap); !yama.empty()) return yama;
    return fmt::format(
        "{}{}; the uids match and Yama does not forbid it: a security module (SELinux, "
        "AppArmor), seccomp or a user namespace refused it",
        std::strerror(EPERM), cap ? " although dumpscope has CAP_SYS_PTRACE" : "");
}

Status check_ptrace_access(int32_t pid) {
    const auto refused = [pid](const std::string& why) {
        return Error{fmt::format("cannot attach to {}: {}", pid, why)};
    };
    if (pid == ::getpid()) return refused("it is dumpscope itself");
    int err = 0;
    auto status = read_file_whole(proc_dir(pid) + "/status", &err);
    if (!status) {
        if (is_gone_errno(err)) return Error{fmt::format("no such process: {}", pid)};
        return refused(status.error().message);
    }
    if (auto tracer = status_number(*status, "TracerPid"); tracer && *tracer != 0)
        return refused("already traced by " + describe_process(*tracer));
    // Opening /proc/PID/mem runs the kernel's attach access check (uids, dumpability, Yama,
    // security modules) and nothing else: the process is not touched.
    UniqueFd mem(::open((proc_dir(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
    if (!mem.valid()) {
        if (is_gone_errno(errno)) return Error{fmt::format("no such process: {}", pid)};
        if (errno == EACCES || errno == EPERM) return refused(ptrace_refusal_reason(pid, pid));
        return refused(fmt::format("cannot open /proc/{}/mem: {}", pid, std::strerror(errno)));
    }
    return {};
}

}  // namespace dumpscope
