#include "monitor/tick_signal.h"

#include <signal.h>

namespace dumpscope {

namespace {

void on_tick(int) {}

}  // namespace

int tick_signal() { return SIGRTMIN + 1; }

void install_tick_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
    sigaction(tick_signal(), &sa, nullptr);
}

void send_tick(pthread_t thread) { pthread_kill(thread, tick_signal()); }

}  // namespace dumpscope
