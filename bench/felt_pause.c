// Felt pause: the longest gap a target's own heartbeat felt while a tool dumped it.
// fixture_memory_hog's heartbeat thread stamps CLOCK_MONOTONIC every ms and keeps the longest
// time between two stamps in a word (its "max_gap" address): this sets that word to 0 through
// process_vm_writev, sleeps until SIGINT/SIGTERM or SECONDS, and reads it back. Nothing polls
// the target meanwhile, so the meter takes no CPU from it (a poller watching the heartbeat
// from outside competes for the CPUs the target waits for after a resume).
// usage: felt_pause PID MAX_GAP_ADDRESS SECONDS  -> prints "max_gap_ms N"
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

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: felt_pause PID MAX_GAP_ADDRESS SECONDS\n");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const pid_t pid = (pid_t)atoi(argv[1]);
    void* address = (void*)(uintptr_t)strtoull(argv[2], NULL, 0);
    uint64_t value = 0;
    struct iovec local = {&value, sizeof value}, remote = {address, sizeof value};
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != sizeof value) {
        perror("process_vm_writev");
        return 1;
    }
    struct timespec left = {atoi(argv[3]), 0};
    while (!stop_requested && nanosleep(&left, &left) != 0) {
    }
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != sizeof value) {
        perror("process_vm_readv");
        return 1;
    }
    printf("max_gap_ms %.1f\n", value / 1e6);
    return 0;
}
