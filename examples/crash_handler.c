/* The in-process crash handler from C: install it once at start-up, keep annotations up to
 * date, and crash. The process still dies of its signal; the dump is in DUMP_DIR.
 *
 *   crash_handler DUMP_DIR MODE
 *     null        a write through a null pointer (SIGSEGV)
 *     heap        a heap corrupted, then freed: glibc aborts (SIGABRT)
 *     overflow    unbounded recursion: the stack overflows (SIGSEGV on the alternate stack)
 *     two         two threads fault at the same moment: one dump, of the first
 *     threads     300 threads wait, then the main thread faults
 *     abort       abort() (SIGABRT)
 *     now         dumpscope_write_dump_now() twice, then exit(0)
 *     wait        reads a line from stdin, then writes through a null pointer
 *     chain       a SIGSEGV handler installed before, chained to (chain_previous_handlers):
 *                 after the dump it prints the signal it saw and exits 42
 *
 * Build: cc crash_handler.c $(pkg-config --cflags --libs dumpscope) -pthread
 */
#include <dumpscope/dumpscope.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int* volatile null_pointer;
static volatile int deeper = 1; /* always: a recursion without an end the compiler can see */
static pthread_barrier_t barrier;

__attribute__((noinline)) static void crash_null_write(void) { *null_pointer = 42; }

__attribute__((noinline)) static void crash_heap_corruption(void) {
    char* first = malloc(1000); /* a size nothing freed before: both come from the top */
    char* second = malloc(1000);
    __asm__ volatile("" : : "r"(first), "r"(second) : "memory");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Warray-bounds"
    memset(first, 0x41, 1024);
#pragma GCC diagnostic pop /* past its end, over the header of the next chunk */
    __asm__ volatile("" : : "r"(first) : "memory");
    free(second); /* glibc finds the size broken and aborts */
}

__attribute__((noinline)) static int crash_stack_overflow(int depth) {
    volatile char frame[4096];
    frame[0] = (char)depth;
    return deeper ? crash_stack_overflow(depth + 1) + frame[0] : frame[0];
}

static void* fault_together(void* arg) {
    (void)arg;
    pthread_barrier_wait(&barrier);
    crash_null_write();
    return NULL;
}

static void* wait_forever(void* arg) {
    (void)arg;
    pthread_barrier_wait(&barrier);
    for (;;) pause();
    return NULL;
}

/* The program's own handler, installed before dumpscope's: it must see the fault's siginfo. */
static void previous_handler(int signo, siginfo_t* info, void* context) {
    (void)context;
    char line[96];
    const int n = snprintf(line, sizeof line, "previous handler: signal %d code %d address %p\n",
                           signo, info->si_code, info->si_addr);
    if (write(1, line, (size_t)n) < 0) _exit(1);
    _exit(42);
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DUMP_DIR null|heap|overflow|two|threads|abort|now|wait|chain\n",
                argv[0]);
        return 2;
    }
    const char* mode = argv[2];
    dumpscope_crash_handler_options options;
    memset(&options, 0, sizeof options);
    options.dump_dir = argv[1];
    options.dump_type = MiniDumpWithIndirectlyReferencedMemory | MiniDumpWithThreadInfo;
    const char note[] = "example user stream";
    dumpscope_user_stream stream = {0x10000001u, sizeof note, note};
    dumpscope_user_stream_information streams = {1, &stream};
    options.user_streams = &streams;
    options.upload_url = getenv("DUMPSCOPE_UPLOAD_URL");
    if (strcmp(mode, "chain") == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = previous_handler;
        action.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &action, NULL);
        options.chain_previous_handlers = 1;
    }
    if (!dumpscope_crash_handler_install(&options)) {
        fprintf(stderr, "crash_handler: %s\n", dumpscope_last_error());
        return 1;
    }
    dumpscope_annotation_set("version", "1.2.3");
    dumpscope_annotation_set("mode", mode);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);

    if (strcmp(mode, "null") == 0 || strcmp(mode, "chain") == 0) {
        crash_null_write();
    } else if (strcmp(mode, "heap") == 0) {
        crash_heap_corruption();
    } else if (strcmp(mode, "overflow") == 0) {
        return crash_stack_overflow(0);
    } else if (strcmp(mode, "wait") == 0) {
        char line[16];
        if (fgets(line, sizeof line, stdin) != NULL) crash_null_write();
        return 1;
    } else if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "two") == 0 || strcmp(mode, "threads") == 0) {
        const int waiting = strcmp(mode, "two") == 0 ? 2 : 300;
        pthread_barrier_init(&barrier, NULL, (unsigned)waiting + 1);
        for (int i = 0; i < waiting; ++i) {
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setstacksize(&attr, 64 * 1024);
            pthread_create(&t, &attr, strcmp(mode, "two") == 0 ? fault_together : wait_forever,
                           NULL);
        }
        pthread_barrier_wait(&barrier);
        if (strcmp(mode, "threads") == 0) crash_null_write();
        for (;;) pause();
    } else if (strcmp(mode, "now") == 0) {
        for (int i = 0; i < 2; ++i) {
            if (!dumpscope_write_dump_now()) {
                fprintf(stderr, "crash_handler: %s\n", dumpscope_last_error());
                return 1;
            }
            printf("dump %s\n", dumpscope_last_dump_path());
        }
        return 0;
    }
    fprintf(stderr, "crash_handler: unknown mode %s\n", mode);
    return 2;
}
