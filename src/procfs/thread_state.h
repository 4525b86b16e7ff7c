// The scheduler state letters of /proc/PID/task/TID/stat, as words.
#pragma once

namespace dumpscope {

// 'R' -> "running", 'S' -> "sleeping", 'D' -> "disk sleep", ...; any other letter -> "unknown".
const char* thread_state_word(char state);

}  // namespace dumpscope
