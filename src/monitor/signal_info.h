// The siginfo of a thread stopped at a signal-delivery-stop (PTRACE_GETSIGINFO), as the
// snapshot's SignalInfo: number, si_code, errno, sender, fault address and the raw 128 bytes.
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

Result<SignalInfo> read_signal_info(int32_t tid);

// The same from a siginfo_t (one a signal handler received).
SignalInfo signal_info_from(const siginfo_t& si);

// "SIGSEGV (SEGV_MAPERR) at 0x8" / "SIGUSR2 from pid 1234" / "SIGFPE (FPE_INTDIV) at 0x401136".
std::string describe_signal(const SignalInfo& info);

// True when delivering `signo` to process pid now runs its default action (nothing catches or
// ignores it): for the crash signals, the process dies.
bool signal_is_fatal(int32_t pid, int signo);

}  // namespace dumpscope
