// A process with a big glibc heap of linked records: the fixture of bench/analyze.sh.
// usage: heap_records [CHUNKS]   (default 1,000,000 chunks: about 1 GB of heap)
// The main thread and two worker threads (each in its own arena, so thread heaps are walked too)
// allocate a third of the chunks each, in a deterministic mix: records of 48-96 bytes linked in
// lists, each holding a string (16-256 bytes) and, for some, a buffer (1-8 KiB) or a large block
// (16-64 KiB, below the mmap threshold); every byte is written (text, patterns), so no page is
// zero. At the end a name or a payload of one record in 20 is freed, scattered, so tcache,
// fastbins and the other bins hold chunks; about 0.5 % of the records are dropped without a
// free (unreachable).
// Prints one line `{"chunks":N,"heap_bytes":B,"arena_bytes":A}` (mallinfo2) when ready, then
// waits to be killed.
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct record {
    struct record* next;
    char* name;
    unsigned char* payload;
    uint64_t id;
    uint32_t payload_size;
    uint32_t flags;
    // 40 bytes so far; a tail of 8-56 bytes of counters follows
    uint64_t counters[];
};

struct worker {
    uint64_t seed;
    long chunks;  // allocations to make
    struct record* lists[64];
    char* kept[16];
    long made;
    pthread_barrier_t* ready;
};

static uint64_t next_random(uint64_t* s) {  // xorshift64*
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static const char* const kWords[] = {"order",  "cache", "entry",   "session", "request",
                                     "socket", "file",  "account", "ledger",  "queue"};

static char* make_string(uint64_t* s, uint64_t id) {
    const size_t len = 16 + next_random(s) % 240;
    char* text = malloc(len);
    size_t at = (size_t)snprintf(text, len, "%s-%llu:", kWords[id % 10], (unsigned long long)id);
    if (at >= len) at = len - 1;
    while (at + 1 < len) {
        text[at] = (char)('a' + (at + id) % 26);
        ++at;
    }
    text[len - 1] = '\0';
    return text;
}

static void* fill(uint64_t* s, size_t size) {
    unsigned char* p = malloc(size);
    const uint64_t pattern = next_random(s) | 0x0101010101010101ull;
    for (size_t i = 0; i + 8 <= size; i += 8) memcpy(p + i, &pattern, 8);
    for (size_t i = size & ~(size_t)7; i < size; ++i) p[i] = 0x5a;
    return p;
}

// One record and what it owns; returns how many chunks that took.
static long add_record(struct worker* w) {
    uint64_t* s = &w->seed;
    const size_t tail = 8 * (1 + next_random(s) % 7);
    struct record* r = malloc(sizeof(struct record) + tail);
    r->id = (uint64_t)w->made;
    r->flags = (uint32_t)next_random(s);
    for (size_t i = 0; i < tail / 8; ++i) r->counters[i] = next_random(s) | 1;
    r->name = make_string(s, r->id);
    long chunks = 2;
    r->payload = NULL;
    r->payload_size = 0;
    const uint64_t roll = next_random(s) % 1000;
    if (roll < 300) {  // a buffer of 1-8 KiB
        r->payload_size = (uint32_t)(1024 + next_random(s) % 7168);
    } else if (roll < 320) {  // a large block of 16-64 KiB
        r->payload_size = (uint32_t)(16384 + next_random(s) % 49152);
    }
    if (r->payload_size != 0) {
        r->payload = fill(s, r->payload_size);
        ++chunks;
    }
    struct record** list = &w->lists[next_random(s) % 64];
    r->next = *list;
    *list = r;
    // Free a few chunks of various sizes, scattered: the previous record's string gets a new
    // one of another size (the old one goes to tcache, a fastbin or a bin).
    if (r->next != NULL && next_random(s) % 100 < 12) {
        free(r->next->name);
        r->next->name = make_string(s, r->next->id + 1);
    }
    // Drop one record in 200 on the floor (a leak): unlink it without freeing it.
    if (r->next != NULL && next_random(s) % 200 == 0) r->next = r->next->next;
    return chunks;
}

// Frees a name or a payload of one record in 20, scattered over the heap: small ones go to
// tcache (7 per size) and fastbins, the others to the unsorted bin, which the few allocations
// after them sort into the small and large bins.
static void free_some(struct worker* w) {
    for (int l = 0; l < 64; ++l) {
        for (struct record* r = w->lists[l]; r != NULL; r = r->next) {
            if (r->id % 20 == 7) {
                free(r->name);
                r->name = NULL;
            } else if (r->id % 20 == 13 && r->payload != NULL) {
                free(r->payload);
                r->payload = NULL;
            }
        }
    }
    for (int i = 0; i < 16; ++i) w->kept[i] = make_string(&w->seed, (uint64_t)i);
}

static void build(struct worker* w) {
    long chunks = 0;
    while (chunks < w->chunks) {
        chunks += add_record(w);
        ++w->made;
    }
    free_some(w);
}

static void* worker_main(void* arg) {
    struct worker* w = arg;
    build(w);
    pthread_barrier_wait(w->ready);
    for (;;) pause();
    return NULL;
}

int main(int argc, char** argv) {
    const long chunks = argc > 1 ? atol(argv[1]) : 1000000;
    static struct worker workers[3];
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, 3);
    for (int i = 0; i < 3; ++i) {
        workers[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        workers[i].chunks = chunks / 3;
        workers[i].ready = &ready;
    }
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) {
        if (pthread_create(&threads[i], NULL, worker_main, &workers[i + 1]) != 0) return 1;
    }
    build(&workers[0]);
    pthread_barrier_wait(&ready);
    const struct mallinfo2 info = mallinfo2();
    long made = 0;
    for (int i = 0; i < 3; ++i) made += workers[i].made;
    printf("{\"records\":%ld,\"chunks\":%ld,\"heap_bytes\":%zu,\"arena_bytes\":%zu}\n", made,
           chunks, info.uordblks, info.arena);
    fflush(stdout);
    for (;;) pause();
}
