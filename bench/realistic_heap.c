// A process with a heap like a server's, for bench/compress.sh: of SIZE_MIB (argv[1], default
// 512), about 45 % records that point at each other and at malloc'd strings (names, e-mail
// addresses, small counters), 25 % text (log lines made of a small vocabulary), 10 % random bytes
// (what encrypted or already compressed data looks like), 20 % allocated and never touched.
// Four worker threads wait in different functions (so `stack --all` has something to walk), and
// a heartbeat thread stamps CLOCK_MONOTONIC into `heartbeat_ns` every millisecond (pause_meter
// reads it). Prints {"pid":N,"heartbeat":ADDRESS,...} when ready, then waits.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t heartbeat_ns;

struct record {
    struct record* next;
    struct record* peer;
    char* name;
    char* email;
    uint64_t id;
    double balance;
    uint32_t flags;
    uint32_t visits;
    char tag[24];
};

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char* const words[] = {
    "request", "served",  "user",    "session", "cache",    "miss",    "hit",     "latency",
    "GET",     "POST",    "/api/v1", "orders",  "items",    "timeout", "retry",   "ok",
    "error",   "warning", "info",    "debug",   "upstream", "db",      "query",   "rows",
    "ms",      "bytes",   "client",  "closed",  "opened",   "token",   "expired", "refresh"};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void* heartbeat_main(void* arg) {
    (void)arg;
    struct timespec one_ms = {0, 1000000};
    for (;;) {
        heartbeat_ns = now_ns();
        nanosleep(&one_ms, NULL);
    }
    return NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static __attribute__((noinline)) void wait_for_work(void) {
    pthread_mutex_lock(&lock);
    for (;;) pthread_cond_wait(&never, &lock);
}
static __attribute__((noinline)) void poll_upstream(void) {
    for (;;) sleep(3600);
}
static void* worker_main(void* arg) {
    if ((uintptr_t)arg % 2 == 0) wait_for_work();
    poll_upstream();
    return NULL;
}

static size_t fill_records(size_t budget) {
    size_t used = 0;
    struct record* head = NULL;
    struct record* previous = NULL;
    for (uint64_t i = 0; used < budget; ++i) {
        struct record* r = malloc(sizeof *r);
        char name[64], email[96];
        snprintf(name, sizeof name, "%s %s", words[next_random() % 32], words[i % 32]);
        snprintf(email, sizeof email, "user%llu@%s.example.com", (unsigned long long)i,
                 words[next_random() % 32]);
        r->name = strdup(name);
        r->email = strdup(email);
        r->id = i;
        r->balance = (double)(next_random() % 100000) / 100.0;
        r->flags = (uint32_t)(next_random() & 0x7);
        r->visits = (uint32_t)(i % 1000);
        snprintf(r->tag, sizeof r->tag, "tag-%06llu", (unsigned long long)(i % 50000));
        r->peer = previous;
        r->next = head;
        head = r;
        if (next_random() % 4 == 0) previous = r;
        used += sizeof *r + strlen(name) + strlen(email) + 2 + 3 * 16;  // with malloc's headers
    }
    return used;
}

static void fill_text(char* text, size_t size) {
    size_t at = 0;
    while (at + 128 < size) {
        at += (size_t)snprintf(text + at, size - at, "2026-12-05T11:%02u:%02u %s %s %s %s %llu\n",
                               (unsigned)(next_random() % 60), (unsigned)(next_random() % 60),
                               words[next_random() % 32], words[next_random() % 32],
                               words[next_random() % 32], words[next_random() % 32],
                               (unsigned long long)(next_random() % 100000));
    }
}

int main(int argc, char** argv) {
    const size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    const size_t total = mib << 20;
    fill_records(total / 100 * 45);
    const size_t text_size = total / 100 * 25;
    char* text = malloc(text_size);
    fill_text(text, text_size);
    const size_t random_size = total / 100 * 10;
    uint64_t* random = malloc(random_size);
    for (size_t i = 0; i < random_size / 8; ++i) random[i] = next_random();
    volatile char* untouched = malloc(total / 100 * 20);  // mmapped, never written
    pthread_t thread;
    pthread_create(&thread, NULL, heartbeat_main, NULL);
    for (uintptr_t i = 0; i < 4; ++i) pthread_create(&thread, NULL, worker_main, (void*)i);
    printf("{\"pid\":%d,\"heartbeat\":%lu,\"text\":%lu,\"untouched\":%lu}\n", getpid(),
           (unsigned long)&heartbeat_ns, (unsigned long)text, (unsigned long)untouched);
    fflush(stdout);
    for (;;) pause();
}
