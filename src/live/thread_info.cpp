#include "live/thread_info.h"

#include "live/proc_files.h"
#include "live/syscall_state.h"
#include "live/thread_registers.h"
#include "procfs/stat_parser.h"

namespace dumpscope {

Result<std::optional<Thread>> read_stopped_thread(int32_t pid, int32_t tid, char state_before,
                                                  const Snapshot& snapshot) {
    Thread thread;
    thread.tid = tid;
    thread.state = state_before;

    int err = 0;
    auto stat_text = read_file_whole(task_dir(pid, tid) + "/stat", &err);
    if (!stat_text) {
        if (is_gone_errno(err)) return std::optional<Thread>();
        return stat_text.error();
    }
    auto stat = parse_stat(*stat_text);
    if (!stat) return stat.error();
    if (stat->state == 'Z' || stat->state == 'X') return std::optional<Thread>();
    thread.user_time_ns = ticks_to_ns(stat->utime_ticks);
    thread.kernel_time_ns = ticks_to_ns(stat->stime_ticks);
    thread.start_time_ns_since_boot = ticks_to_ns(stat->starttime_ticks);
    thread.priority = stat->priority;
    thread.nice = stat->nice;
    // comm in stat and in the comm file are the same; the file avoids parsing quirks.
    auto comm = read_file_whole(task_dir(pid, tid) + "/comm");
    thread.name = comm ? chomp(std::move(comm).value()) : stat->comm;

    auto regs = read_thread_registers(tid, &err);
    if (!regs) {
        if (err == ESRCH) return std::optional<Thread>();  // killed while stopped
        return regs.error();
    }
    thread.regs = std::move(regs).value();
    thread.syscall = read_syscall_state(pid, tid, thread.regs);
    if (const Mapping* stack = snapshot.mapping_at(thread.regs.sp())) {
        thread.stack_start = stack->start;
        thread.stack_end = stack->end;
    }
    return std::optional<Thread>(std::move(thread));
}

}  // namespace dumpscope
