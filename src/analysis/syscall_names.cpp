#include "analysis/syscall_names.h"

#include <fmt/format.h>
#include <sys/syscall.h>

#include <array>
#include <utility>

namespace dumpscope::analysis {

std::string syscall_name(int64_t number) {
    static constexpr std::array<std::pair<int64_t, const char*>, 40> kNames{{
        {SYS_read, "read"},
        {SYS_write, "write"},
        {SYS_poll, "poll"},
        {SYS_select, "select"},
        {SYS_pselect6, "pselect6"},
        {SYS_ppoll, "ppoll"},
        {SYS_epoll_wait, "epoll_wait"},
        {SYS_epoll_pwait, "epoll_pwait"},
        {SYS_epoll_pwait2, "epoll_pwait2"},
        {SYS_nanosleep, "nanosleep"},
        {SYS_clock_nanosleep, "clock_nanosleep"},
        {SYS_pause, "pause"},
        {SYS_futex, "futex"},
        {SYS_wait4, "wait4"},
        {SYS_waitid, "waitid"},
        {SYS_accept, "accept"},
        {SYS_accept4, "accept4"},
        {SYS_connect, "connect"},
        {SYS_recvfrom, "recvfrom"},
        {SYS_recvmsg, "recvmsg"},
        {SYS_sendto, "sendto"},
        {SYS_sendmsg, "sendmsg"},
        {SYS_readv, "readv"},
        {SYS_writev, "writev"},
        {SYS_pread64, "pread64"},
        {SYS_pwrite64, "pwrite64"},
        {SYS_openat, "openat"},
        {SYS_ioctl, "ioctl"},
        {SYS_rt_sigsuspend, "rt_sigsuspend"},
        {SYS_rt_sigtimedwait, "rt_sigtimedwait"},
        {SYS_sched_yield, "sched_yield"},
        {SYS_flock, "flock"},
        {SYS_fcntl, "fcntl"},
        {SYS_msgrcv, "msgrcv"},
        {SYS_semop, "semop"},
        {SYS_semtimedop, "semtimedop"},
        {SYS_io_getevents, "io_getevents"},
        {SYS_io_uring_enter, "io_uring_enter"},
        {SYS_mmap, "mmap"},
        {SYS_exit_group, "exit_group"},
    }};
    for (const auto& [value, name] : kNames) {
        if (value == number) return name;
    }
    return fmt::format("syscall {}", number);
}

}  // namespace dumpscope::analysis
