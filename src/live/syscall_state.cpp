#include "live/syscall_state.h"

#include <sys/ptrace.h>

#include <charconv>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "live/proc_files.h"
#include "procfs/syscall_parse.h"

namespace dumpscope {

namespace {

std::optional<SyscallState> from_ptrace(int32_t tid) {
    __ptrace_syscall_info info{};
    long size =
        ::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof(info)), &info);
    if (size <= 0) return std::nullopt;
    if (info.op != PTRACE_SYSCALL_INFO_ENTRY && info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
        return std::nullopt;  // an interrupt stop reports NONE: ask elsewhere
    }
    SyscallState state;
    state.in_syscall = true;
    state.number = static_cast<int64_t>(info.entry.nr);
    for (size_t i = 0; i < state.args.size(); ++i) state.args[i] = info.entry.args[i];
    return state;
}

}  // namespace

SyscallState read_syscall_state(int32_t pid, int32_t tid, const CpuContext& regs) {
    if (auto state = from_ptrace(tid)) return *state;
    if (auto text = read_file_whole(task_dir(pid, tid) + "/syscall")) {
        if (auto state = parse_proc_syscall(*text)) return *state;
    }
    return arch::syscall_from_context(regs);
}

}  // namespace dumpscope
