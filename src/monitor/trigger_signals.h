// The signals given to --signal: names or numbers as procfs/signal_names.h parses them, each
// one a signal that can be intercepted.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

// "SIGUSR2,TERM,10" -> {12, 15, 10}; duplicates are dropped; unknown names, empty items and
// SIGKILL/SIGSTOP (they cannot be caught, so they cannot trigger a dump) are errors.
Result<std::vector<int>> parse_signal_list(const std::vector<std::string>& items);

}  // namespace dumpscope
