// Names of the x86-64 system calls a thread is most often found waiting in, for reports. (Signal
// and si_code names are procfs/signal_names.h.)
#pragma once

#include <cstdint>
#include <string>

namespace dumpscope::analysis {

// "futex", "pause", ... or "syscall 999".
std::string syscall_name(int64_t number);

}  // namespace dumpscope::analysis
