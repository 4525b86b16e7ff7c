#include "procfs/thread_state.h"

namespace dumpscope {

const char* thread_state_word(char state) {
    switch (state) {
        case 'R':
            return "running";
        case 'S':
            return "sleeping";
        case 'D':
            return "disk sleep";
        case 'T':
            return "stopped";
        case 't':
            return "tracing stop";
        case 'Z':
            return "zombie";
        case 'X':
            return "dead";
        case 'I':
            return "idle";
        default:
            return "unknown";
    }
}

}  // namespace dumpscope
