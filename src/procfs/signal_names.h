// Names of Linux signals and of their si_code values, from one table each (signals.def,
// si_codes.def): for reports ("SIGSEGV (SEGV_MAPERR)"), for the command line ("USR2", "SIGUSR2",
// "12", "SIGRTMIN+3" all name a signal) and for dump summaries. Realtime signals are named from
// the C library's SIGRTMIN, as kill -l and sigqueue see them: SIGRTMIN, SIGRTMIN+1, ...
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope {

// 11 -> "SIGSEGV"; a realtime signal -> "SIGRTMIN" or "SIGRTMIN+N"; unknown -> "signal N".
std::string signal_name(int signo);

// 11 -> "Segmentation fault"; a realtime signal -> "Real-time signal N"; unknown -> "".
std::string signal_description(int signo);

// "SIGUSR2", "USR2", "usr2", "12", "SIGRTMIN+3", "RTMAX-1", an alias such as "IOT" -> the
// number; anything else (0, numbers above SIGRTMAX, unknown names) is an error naming the text.
Result<int> parse_signal(std::string_view text);

// One entry of the si_code table: signo 0 for the codes any signal may carry (SI_USER, ...).
struct SiCode {
    int signo = 0;
    int code = 0;
    const char* name = "";
    const char* description = "";
};

// The si_code of a signal: the generic SI_* codes first, then those of the signal itself.
std::optional<SiCode> find_si_code(int signo, int code);
// "SEGV_MAPERR" -> {SIGSEGV, 1, ...}; "SI_USER" -> {0, 0, ...}; unknown -> nullopt.
std::optional<SiCode> find_si_code(std::string_view name);

// "SEGV_MAPERR", "SI_USER", ... or "" when the table does not know the code.
std::string si_code_name(int signo, int code);
// "address not mapped to object", ... or "".
std::string si_code_description(int signo, int code);

}  // namespace dumpscope
