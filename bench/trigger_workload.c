// Workload for bench/crash_overhead.sh: prints "ready", waits for a line on stdin, runs a fixed
// amount of work and prints the milliseconds it took (CLOCK_MONOTONIC), then exits.
//   cpu      integer arithmetic, no system calls
//   syscall  getppid() through syscall(2), 4 million times
//   signal   raise(SIGUSR1) with a handler, 100000 times (each delivery is a ptrace stop
//            under a --crash monitor: the worst case, not a typical program)
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t g_sink;
static volatile sig_atomic_t g_handled;

static void on_usr1(int signo) {
    (void)signo;
    ++g_handled;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void cpu_work(void) {
    uint64_t x = 88172645463325252ull;
    for (long i = 0; i < 300000000L; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    g_sink = x;
}

static void syscall_work(void) {
    for (long i = 0; i < 4000000L; ++i) g_sink += (uint64_t)syscall(SYS_getppid);
}

static void signal_work(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    for (long i = 0; i < 100000L; ++i) raise(SIGUSR1);
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "cpu";
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
    const double start = now_ms();
    if (strcmp(mode, "syscall") == 0)
        syscall_work();
    else if (strcmp(mode, "signal") == 0)
        signal_work();
    else
        cpu_work();
    printf("%.1f\n", now_ms() - start);
    return 0;
}
