/* MiniDumpWriteDump for Linux from C: dumpscope_write_dump() with a callback routine and user
 * streams, of this process or of a child.
 *
 *   write_dump OUTPUT self|child MODE
 *     plain        MiniDumpNormal
 *     drop-thread  IncludeThreadCallback leaves the worker thread out
 *     drop-module  IncludeModuleCallback leaves libc out
 *     data-segs    MiniDumpWithDataSegs, ModuleCallback keeps the data of this program only
 *     heap-range   MemoryCallback adds a 64 KiB heap block
 *     cancel       CancelCallback cancels at its tenth call, half-way through writing memory
 *                  (the first three come while planning): the dump fails, OUTPUT is empty
 *     streams      two user streams, read back with dumpscope_read_dump_stream
 * It prints what a test needs: "worker TID", "heap ADDRESS SIZE", "data ADDRESS", each callback
 * as "callback TYPE", then "written" or "failed: WHY".
 *
 * Build: cc write_dump.c $(pkg-config --cflags --libs dumpscope) -pthread
 */
#define _GNU_SOURCE
#include <dumpscope/dumpscope.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kHeapSize = 64 * 1024 };

char data_marker[4096] = "DATA-SEGMENT-MARKER of write_dump";
static unsigned char* heap_block;
static pid_t worker_tid;
static int tid_pipe[2];

struct scenario {
    const char* mode;
    int cancel_calls;
    int memory_calls;
};

static void* worker(void* arg) {
    (void)arg;
    pid_t tid = gettid();
    if (write(tid_pipe[1], &tid, sizeof tid) != sizeof tid) abort();
    for (;;) pause();
    return NULL;
}

/* Only writes to stdout with write(2): when the target is this process, every other thread is
 * stopped and may hold stdio's or malloc's lock. */
static void say(const char* text) {
    if (write(1, text, strlen(text)) < 0) abort();
}

static int routine(void* param, const dumpscope_callback_input* in,
                   dumpscope_callback_output* out) {
    struct scenario* s = param;
    char line[160];
    snprintf(line, sizeof line, "callback %u\n", in->CallbackType);
    say(line);
    switch (in->CallbackType) {
        case IncludeThreadCallback:
            return !(strcmp(s->mode, "drop-thread") == 0 &&
                     (pid_t)in->IncludeThread.ThreadId == worker_tid);
        case IncludeModuleCallback:
            return 1;
        case ModuleCallback:
            if (strcmp(s->mode, "drop-module") == 0 &&
                strstr(in->Module.FullPath, "/libc.so") != NULL)
                return 0;
            if (strcmp(s->mode, "data-segs") == 0 &&
                strstr(in->Module.FullPath, "write_dump") == NULL)
                out->ModuleWriteFlags &= ~(uint32_t)ModuleWriteDataSeg;
            return 1;
        case ThreadCallback:
            return 1;
        case MemoryCallback:
            if (strcmp(s->mode, "heap-range") != 0 || s->memory_calls++ > 0) return 0;
            out->MemoryBase = (uint64_t)(uintptr_t)heap_block;
            out->MemorySize = kHeapSize;
            return 1;
        case CancelCallback:
            out->CheckCancel = 1;
            out->Cancel = strcmp(s->mode, "cancel") == 0 && ++s->cancel_calls == 10;
            return 1;
    }
    return 1;
}

static int check_streams(const char* path, const unsigned char* big, size_t big_size) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 0;
    void* base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) return 0;
    const void* stream;
    uint32_t size;
    int ok = dumpscope_read_dump_stream(base, (size_t)st.st_size, 0x10000001u, &stream, &size) &&
             size == 6 && memcmp(stream, "hello", 6) == 0 &&
             dumpscope_read_dump_stream(base, (size_t)st.st_size, 0x10000002u, &stream, &size) &&
             size == big_size && memcmp(stream, big, big_size) == 0 &&
             !dumpscope_read_dump_stream(base, (size_t)st.st_size, 0x10000003u, &stream, &size);
    munmap(base, (size_t)st.st_size);
    return ok;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr,
                "usage: %s OUTPUT self|child plain|drop-thread|drop-module|data-segs|"
                "heap-range|cancel|streams\n",
                argv[0]);
        return 2;
    }
    struct scenario s = {argv[3], 0, 0};
    heap_block = malloc(kHeapSize);
    for (size_t i = 0; i < kHeapSize; ++i) heap_block[i] = (unsigned char)(i * 7 + 1);
    if (pipe(tid_pipe) != 0) return 1;

    pid_t target = getpid();
    pid_t child = 0;
    if (strcmp(argv[2], "child") == 0) {
        child = fork();
        if (child == 0) {
            pthread_t t;
            pthread_create(&t, NULL, worker, NULL);
            for (;;) pause();
        }
        target = child;
    } else {
        pthread_t t;
        pthread_create(&t, NULL, worker, NULL);
    }
    if (read(tid_pipe[0], &worker_tid, sizeof worker_tid) != sizeof worker_tid) return 1;
    /* stdout points into libc's data: a data segment the data-segs mode leaves out. */
    printf("worker %d\nheap %p %d\ndata %p\nlibcdata %p\n", (int)worker_tid, (void*)heap_block,
           kHeapSize, (void*)data_marker, (void*)stdout);
    fflush(stdout);

    static unsigned char big[100000];
    for (size_t i = 0; i < sizeof big; ++i) big[i] = (unsigned char)(i % 251);
    dumpscope_user_stream streams[2] = {{0x10000001u, 6, "hello"}, {0x10000002u, sizeof big, big}};
    dumpscope_user_stream_information stream_info = {2, streams};
    dumpscope_callback_information callback = {routine, &s};

    const uint32_t type = strcmp(s.mode, "data-segs") == 0 ? MiniDumpWithDataSegs : MiniDumpNormal;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    const int written = dumpscope_write_dump(
        target, fd, type, NULL, strcmp(s.mode, "streams") == 0 ? &stream_info : NULL, &callback);
    close(fd);
    if (child != 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (!written) {
        printf("failed: %s\n", dumpscope_last_error());
        return 1;
    }
    if (strcmp(s.mode, "streams") == 0 && !check_streams(argv[1], big, sizeof big)) {
        printf("failed: the user streams did not read back byte for byte\n");
        return 1;
    }
    printf("written\n");
    return 0;
}
