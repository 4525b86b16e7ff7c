/* The crash handler's costs (bench/crash_handler.sh):
 *   crash_fault crash DIR MB STAMP   install the handler (its time into STAMP.install, ns),
 *                                    fill MB MiB of heap, write the fault time (CLOCK_REALTIME
 *                                    ns) into STAMP, write through a null pointer
 *   crash_fault work with|without    a fixed CPU workload with or without the handler
 *                                    installed; prints its time (ns) and the helper's pid
 */
#define _GNU_SOURCE
#include <dumpscope/dumpscope.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int* volatile null_pointer;

static uint64_t now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void write_number(const char* path, uint64_t value) {
    char text[32];
    const int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)value);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, (size_t)n) != n) abort();
    close(fd);
}

static int install(const char* dir) {
    dumpscope_crash_handler_options options;
    memset(&options, 0, sizeof options);
    options.dump_dir = dir;
    options.dump_type = MiniDumpWithIndirectlyReferencedMemory | MiniDumpWithThreadInfo;
    if (!dumpscope_crash_handler_install(&options)) {
        fprintf(stderr, "crash_fault: %s\n", dumpscope_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char** argv) {
    if (argc == 5 && strcmp(argv[1], "crash") == 0) {
        const uint64_t before = now_ns(CLOCK_MONOTONIC);
        if (!install(argv[2])) return 1;
        const uint64_t installed = now_ns(CLOCK_MONOTONIC) - before;
        char path[4096];
        snprintf(path, sizeof path, "%s.install", argv[4]);
        write_number(path, installed);
        const size_t bytes = (size_t)atoi(argv[3]) << 20;
        uint64_t* heap = malloc(bytes);
        for (size_t i = 0; i < bytes / 8; ++i) heap[i] = i * 0x9e3779b97f4a7c15ull;
        write_number(argv[4], now_ns(CLOCK_REALTIME));
        *null_pointer = (int)heap[1];
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "work") == 0) {
        if (strcmp(argv[2], "with") == 0 && !install(argv[3])) return 1;
        const uint64_t start = now_ns(CLOCK_MONOTONIC);
        volatile uint64_t sink = 0;
        for (uint64_t i = 0; i < 400000000u; ++i) sink += i ^ (sink >> 3);
        printf("%llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - start));
        return 0;
    }
    fprintf(stderr, "usage: crash_fault crash DIR MB STAMP | crash_fault work with|without DIR\n");
    return 2;
}
