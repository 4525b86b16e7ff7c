#include "analysis/signal_names.h"

#include <fmt/format.h>
#include <sys/syscall.h>

#include <array>
#include <csignal>
#include <utility>

namespace dumpscope::analysis {

std::string signal_name(int signo) {
    static constexpr std::array<std::pair<int, const char*>, 31> kNames{{
        {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"},     {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},       {SIGKILL, "SIGKILL"},
        {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"},     {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},
        {SIGSTKFLT, "SIGSTKFLT"}, {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"},
        {SIGSTOP, "SIGSTOP"},     {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"},
        {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"},     {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
        {SIGWINCH, "SIGWINCH"},   {SIGIO, "SIGIO"},         {SIGPWR, "SIGPWR"},
        {SIGSYS, "SIGSYS"},
    }};
    for (const auto& [number, name] : kNames) {
        if (number == signo) return name;
    }
    return fmt::format("signal {}", signo);
}

std::string signal_code_name(int signo, int code) {
    switch (code) {
        case SI_USER:
            return "SI_USER";
        case SI_KERNEL:
            return "SI_KERNEL";
        case SI_QUEUE:
            return "SI_QUEUE";
        case SI_TKILL:
            return "SI_TKILL";
        default:
            break;
    }
    if (signo == SIGSEGV) {
        if (code == SEGV_MAPERR) return "SEGV_MAPERR";
        if (code == SEGV_ACCERR) return "SEGV_ACCERR";
    }
    if (signo == SIGBUS) {
        if (code == BUS_ADRALN) return "BUS_ADRALN";
        if (code == BUS_ADRERR) return "BUS_ADRERR";
        if (code == BUS_OBJERR) return "BUS_OBJERR";
    }
    if (signo == SIGFPE) {
        if (code == FPE_INTDIV) return "FPE_INTDIV";
        if (code == FPE_INTOVF) return "FPE_INTOVF";
        if (code == FPE_FLTDIV) return "FPE_FLTDIV";
    }
    if (signo == SIGILL) {
        if (code == ILL_ILLOPC) return "ILL_ILLOPC";
        if (code == ILL_PRVOPC) return "ILL_PRVOPC";
    }
    if (signo == SIGTRAP) {
        if (code == TRAP_BRKPT) return "TRAP_BRKPT";
        if (code == TRAP_TRACE) return "TRAP_TRACE";
    }
    return {};
}

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
