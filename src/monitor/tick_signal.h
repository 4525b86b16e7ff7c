// The monitor's wake-up call: a signal with an empty handler installed without SA_RESTART, so a
// session thread blocked in waitpid() or nanosleep() returns with EINTR and looks at its clock
// and its stop flag. The coordinator sends it to each session every poll interval and at once
// on Ctrl-C.
#pragma once

#include <pthread.h>

namespace dumpscope {

int tick_signal();            // SIGRTMIN + 1
void install_tick_handler();  // once, before any session thread starts
void send_tick(pthread_t thread);

}  // namespace dumpscope
