// Closed-loop upload load for `dumpscope server` (bench/service_load.py's ingest phase): N
// threads, each on its own kept-alive HTTP/1.1 connection, POST a request body read from a file
// again and again until the time is up, and time each request from its first byte sent to its
// answer's last byte read. A C client, so that the latency measured is the server's, not a
// Python interpreter's lock or scheduling.
//
// usage: upload_load PORT SECONDS THREADS LATENCIES_OUT BODY_FILE CONTENT_TYPE...
//   BODY_FILE/CONTENT_TYPE pairs; each request takes the next pair round-robin per thread.
// Writes one latency in microseconds per line to LATENCIES_OUT, a 'refused N' line for answers
// other than 200 + CrashID=, and prints the count of connections it had to reopen on stderr.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kMaxBodies = 8, kAnswerCap = 1 << 16 };

static int port;
static double deadline;
static int body_count;
static char* requests[kMaxBodies];
static size_t request_sizes[kMaxBodies];

struct worker {
    pthread_t thread;
    int index;
    long* latencies_us;
    size_t count, capacity;
    long refused, reconnects;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_server(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

// Reads one answer: 1 if it is 200 with CrashID=, 0 if another answer, -1 if the connection
// failed. *closing is set when the server said it closes the connection.
static int read_answer(int fd, char* buffer, int* closing) {
    size_t have = 0;
    char* body = NULL;
    long length = -1;
    for (;;) {
        if (have + 1 >= kAnswerCap) return -1;
        ssize_t n = recv(fd, buffer + have, kAnswerCap - 1 - have, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        have += (size_t)n;
        buffer[have] = '\0';
        if (body == NULL) {
            char* end = strstr(buffer, "\r\n\r\n");
            if (end == NULL) continue;
            body = end + 4;
            char* field = strcasestr(buffer, "\r\nContent-Length:");
            if (field == NULL || field > end) return -1;
            length = strtol(field + 17, NULL, 10);
            char* connection = strcasestr(buffer, "\r\nConnection: close");
            *closing = connection != NULL && connection < end;
        }
        if ((long)(buffer + have - body) >= length) break;
    }
    const int ok = strncmp(buffer, "HTTP/1.1 200", 12) == 0 && strncmp(body, "CrashID=", 8) == 0;
    return ok ? 1 : 0;
}

static void* run(void* argument) {
    struct worker* self = argument;
    char* answer = malloc(kAnswerCap);
    int fd = -1;
    unsigned next = (unsigned)self->index;
    while (now() < deadline) {
        if (fd < 0 && (fd = connect_server()) < 0) {
            ++self->reconnects;
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        const int which = (int)(next++ % (unsigned)body_count);
        const double start = now();
        int closing = 0;
        int got = send_all(fd, requests[which], request_sizes[which]) == 0
                      ? read_answer(fd, answer, &closing)
                      : -1;
        if (got < 0) {  // the connection broke: not a latency, try again on a new one
            close(fd);
            fd = -1;
            ++self->reconnects;
            continue;
        }
        const double elapsed = now() - start;
        if (self->count == self->capacity) {
            self->capacity = self->capacity ? self->capacity * 2 : 4096;
            self->latencies_us = realloc(self->latencies_us, self->capacity * sizeof(long));
            if (self->latencies_us == NULL) abort();
        }
        self->latencies_us[self->count++] = (long)(elapsed * 1e6);
        if (!got) ++self->refused;
        if (closing) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    free(answer);
    return NULL;
}

static char* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* data = malloc((size_t)length + 1);
    if (data == NULL || fread(data, 1, (size_t)length, f) != (size_t)length) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *size = (size_t)length;
    return data;
}

int main(int argc, char** argv) {
    if (argc < 7 || (argc - 5) % 2 != 0 || (argc - 5) / 2 > kMaxBodies) {
        fprintf(stderr, "usage: upload_load PORT SECONDS THREADS OUT (BODY CONTENT_TYPE)...\n");
        return 2;
    }
    port = atoi(argv[1]);
    const double seconds = atof(argv[2]);
    const int threads = atoi(argv[3]);
    if (port <= 0 || seconds <= 0 || threads <= 0 || threads > 4096) {
        fprintf(stderr, "upload_load: bad port, seconds or threads\n");
        return 2;
    }
    for (int i = 5; i + 1 < argc; i += 2) {
        size_t size = 0;
        char* body = read_file(argv[i], &size);
        if (body == NULL) {
            fprintf(stderr, "upload_load: cannot read %s\n", argv[i]);
            return 2;
        }
        char header[512];
        const int header_size = snprintf(header, sizeof header,
                                         "POST /submit HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                         "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                                         port, argv[i + 1], size);
        requests[body_count] = malloc((size_t)header_size + size);
        memcpy(requests[body_count], header, (size_t)header_size);
        memcpy(requests[body_count] + header_size, body, size);
        request_sizes[body_count] = (size_t)header_size + size;
        ++body_count;
        free(body);
    }
    struct worker* workers = calloc((size_t)threads, sizeof *workers);
    deadline = now() + seconds;
    for (int i = 0; i < threads; ++i) {
        workers[i].index = i;
        if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0) {
            fprintf(stderr, "upload_load: cannot start thread %d\n", i);
            return 1;
        }
    }
    FILE* out = fopen(argv[4], "w");
    if (out == NULL) {
        fprintf(stderr, "upload_load: cannot write %s\n", argv[4]);
        return 1;
    }
    long refused = 0, reconnects = 0;
    for (int i = 0; i < threads; ++i) {
        pthread_join(workers[i].thread, NULL);
        for (size_t k = 0; k < workers[i].count; ++k)
            fprintf(out, "%ld\n", workers[i].latencies_us[k]);
        refused += workers[i].refused;
        reconnects += workers[i].reconnects;
    }
    fprintf(out, "refused %ld\n", refused);
    fclose(out);
    fprintf(stderr, "upload_load: %ld connections reopened\n", reconnects);
    return 0;
}
