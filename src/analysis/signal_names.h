// Names of Linux signals, their si_code values and x86-64 system calls, for reports.
#pragma once

#include <cstdint>
#include <string>

namespace dumpscope::analysis {

// "SIGSEGV", or "signal 77".
std::string signal_name(int signo);
// "SEGV_MAPERR", "SI_USER", ... or "" when unknown.
std::string signal_code_name(int signo, int code);
// "futex", "pause", ... or "syscall 999".
std::string syscall_name(int64_t number);

}  // namespace dumpscope::analysis
