#include "monitor/signal_info.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <cstring>

#include "live/proc_files.h"
#include "procfs/signal_names.h"
#include "procfs/status_parser.h"

namespace dumpscope {

namespace {

static_assert(sizeof(siginfo_t) == 128);

bool carries_fault_address(int signo) {
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
           signo == SIGTRAP;
}

// Bit signo-1 of a hex mask line of /proc/PID/status ("SigCgt:\t0000000000004a02").
bool mask_has(const std::string& status, const char* key, int signo) {
    auto field = status_field(status, key);
    if (!field) return false;
    uint64_t mask = 0;
    if (!parse_u64(*field, mask, 16)) return false;
    return signo >= 1 && signo <= 64 && (mask >> (signo - 1) & 1) != 0;
}

}  // namespace

SignalInfo signal_info_from(const siginfo_t& si) {
    SignalInfo info;
    info.signo = si.si_signo;
    info.code = si.si_code;
    info.err = si.si_errno;
    std::memcpy(info.raw.data(), &si, sizeof si);
    if (si.si_code > 0 && carries_fault_address(si.si_signo)) {
        info.fault_address = reinterpret_cast<uint64_t>(si.si_addr);
    } else if (si.si_code <= 0) {  // sent by a process: kill, tgkill, sigqueue
        info.sender_pid = si.si_pid;
    }
    return info;
}

Result<SignalInfo> read_signal_info(int32_t tid) {
    siginfo_t si{};
    if (::ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) != 0)
        return errno_error(fmt::format("cannot read the signal of thread {}", tid));
    return signal_info_from(si);
}

std::string describe_signal(const SignalInfo& info) {
    std::string text = signal_name(info.signo);
    if (const std::string code = si_code_name(info.signo, info.code); !code.empty())
        text += fmt::format(" ({})", code);
    if (info.code > 0 && carries_fault_address(info.signo))
        text += fmt::format(" at {:#x}", info.fault_address);
    else if (info.code <= 0 && info.sender_pid != 0)
        text += fmt::format(" from pid {}", info.sender_pid);
    return text;
}

bool signal_is_fatal(int32_t pid, int signo) {
    auto status = read_file_whole(proc_dir(pid) + "/status");
    if (!status) return true;  // cannot tell: treat it as the crash it most likely is
    return !mask_has(*status, "SigCgt", signo) && !mask_has(*status, "SigIgn", signo);
}

}  // namespace dumpscope
