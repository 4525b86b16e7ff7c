// Finding and starting the helper (dumpscope-handler), the process that dumps the library's
// own process from outside, as crashpad_handler does for Crashpad's clients.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace dumpscope {

// The helper to start: `configured` if given, else $DUMPSCOPE_HANDLER, else
// <dir>/../libexec/dumpscope/dumpscope-handler next to the file this library was loaded from
// (libdumpscope.so, or the executable it is linked into): so an installed package works under
// any prefix.
Result<std::string> find_helper(const std::string& configured);

// Starts `path` with argv {path, mode} and these descriptors at wire::kChannelFd,
// wire::kCrashFd / kOutputFd (second, may be -1) and wire::kSettingsFd; lets it trace this
// process (PR_SET_PTRACER, for YAMA ptrace_scope 1). Returns its pid.
Result<pid_t> start_helper(const std::string& path, const char* mode, int channel, int second,
                           int settings);

// The crash handler's helper, if installed and started (0 otherwise): a dump of the process by
// another helper names it again as the allowed tracer afterwards (YAMA keeps one).
pid_t crash_handler_helper_pid();

// "exited with status 3", "killed by SIGKILL": how a waited-for child ended.
std::string describe_exit(int status);

}  // namespace dumpscope
