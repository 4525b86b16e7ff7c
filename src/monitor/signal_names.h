// Signal names and numbers for the command line and for messages: "SIGUSR2", "USR2", "usr2",
// "12" all mean 12; realtime signals as "SIGRTMIN+3" or their number.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

Result<int> parse_signal(const std::string& text);

// "SIGUSR2,TERM,10" -> {12, 15, 10}; empty items are an error.
Result<std::vector<int>> parse_signal_list(const std::vector<std::string>& items);

// 11 -> "SIGSEGV"; a realtime signal -> "SIGRTMIN+N"; unknown -> "signal N".
std::string signal_name(int signo);

}  // namespace dumpscope
