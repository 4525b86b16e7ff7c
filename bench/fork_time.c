// The floor for a copy-on-write clone: how long fork() takes in a process holding the same
// memory as the benchmark's fixture (N MiB of touched, non-zero anonymous memory, optionally
// with MADV_HUGEPAGE). The child exits at once; only the parent's fork() call is timed.
// usage: fork_time MIB [thp] [RUNS]  -> prints "fork_ms min median max"
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fork_time MIB [thp] [RUNS]\n");
        return 2;
    }
    const size_t size = strtoul(argv[1], NULL, 10) << 20;
    const int thp = argc > 2 && strcmp(argv[2], "thp") == 0;
    const int runs = argc > 3 ? atoi(argv[3]) : 5;
    uint64_t* memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED || (thp && madvise(memory, size, MADV_HUGEPAGE) != 0)) {
        perror("mmap/madvise");
        return 1;
    }
    for (size_t i = 0; i < size / 8; ++i) memory[i] = i * 0x9E3779B97F4A7C15ull + 1;
    double times[64];
    const int n = runs < 64 ? runs : 64;
    for (int k = 0; k < n; ++k) {
        const double start = now_ms();
        const pid_t child = fork();
        if (child == 0) _exit(0);
        times[k] = now_ms() - start;
        waitpid(child, NULL, 0);
    }
    qsort(times, (size_t)n, sizeof times[0], by_value);
    printf("fork_ms %.2f %.2f %.2f\n", times[0], times[n / 2], times[n - 1]);
    return 0;
}
