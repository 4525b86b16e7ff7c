// Pause meter: watches a target's heartbeat word (CLOCK_MONOTONIC ns, stamped every ms by
// fixture_memory_hog) through process_vm_readv and reports the longest time it stood still.
// usage: pause_meter PID ADDRESS SECONDS  -> prints "max_gap_ms N"
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: pause_meter PID ADDRESS SECONDS\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    const pid_t pid = (pid_t)atoi(argv[1]);
    const uint64_t address = strtoull(argv[2], NULL, 0);
    const double until = now_ms() + atof(argv[3]) * 1e3;
    uint64_t last = 0;
    double last_change = now_ms(), max_gap = 0;
    while (!stop_requested && now_ms() < until) {
        uint64_t value = 0;
        struct iovec local = {&value, sizeof value}, remote = {(void*)address, sizeof value};
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != sizeof value) break;
        const double t = now_ms();
        if (value != last) {
            if (last != 0 && t - last_change > max_gap) max_gap = t - last_change;
            last = value;
            last_change = t;
        }
        usleep(100);
    }
    printf("max_gap_ms %.1f\n", max_gap);
    return 0;
}
