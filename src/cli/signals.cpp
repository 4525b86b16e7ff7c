#include "cli/signals.h"

#include <signal.h>

#include "output/write_context.h"

namespace dumpscope {

namespace {

void on_cancel_signal(int) { cancel_requested().store(true); }

}  // namespace

void install_cancel_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_cancel_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns EINTR and sees the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

}  // namespace dumpscope
