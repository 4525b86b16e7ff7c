// Which blocking calls of a target return EINTR when it is stopped and resumed, for each way of
// stopping it. A child has one thread blocked in each of epoll_wait, semop, sigtimedwait,
// nanosleep, poll and read; every return with EINTR is reported on a pipe. The parent stops and
// resumes a fresh child with each method and prints which calls saw EINTR.
//
//   cc -O2 -pthread -o eintr_probe bench/eintr_probe.c && sudo ./eintr_probe
//
// Methods: PTRACE_SEIZE + PTRACE_INTERRUPT + PTRACE_DETACH (what dumpscope does);
// PTRACE_SEIZE + SIGSTOP group-stop + PTRACE_LISTEN, then SIGCONT; PTRACE_ATTACH (SIGSTOP) +
// PTRACE_DETACH; plain job control SIGSTOP + SIGCONT; and PTRACE_SEIZE alone (no stop, detached
// when the tracer thread exits) as the control that must show nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kEpoll, kSemop, kSigtimedwait, kNanosleep, kPoll, kRead, kCalls };
static const char* const kNames[kCalls] = {"epoll_wait", "semop", "sigtimedwait",
                                           "nanosleep",  "poll",  "read"};
static int report_fd = -1;  // child -> parent: one byte per EINTR (the call's index)
static int idle_pipe[2];    // nothing is ever written: poll and read block on it
static int sem_id = -1;

static void report(int call) {
    const char c = (char)call;
    if (write(report_fd, &c, 1) != 1) _exit(3);
}

static void* blocker(void* arg) {
    const int call = (int)(long)arg;
    for (;;) {
        int r = 0;
        if (call == kEpoll) {
            static int ep = -1;
            if (ep < 0) ep = epoll_create1(0);
            struct epoll_event ev;
            r = epoll_wait(ep, &ev, 1, -1);
        } else if (call == kSemop) {
            struct sembuf op = {0, -1, 0};
            r = semop(sem_id, &op, 1);
        } else if (call == kSigtimedwait) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            struct timespec ts = {100000, 0};
            r = sigtimedwait(&set, NULL, &ts);
        } else if (call == kNanosleep) {
            struct timespec ts = {100000, 0};
            r = nanosleep(&ts, NULL);
        } else if (call == kPoll) {
            struct pollfd p = {idle_pipe[0], POLLIN, 0};
            r = poll(&p, 1, -1);
        } else {
            char c;
            r = (int)read(idle_pipe[0], &c, 1);
        }
        if (r < 0 && errno == EINTR) report(call);
    }
    return NULL;
}

// The child: every thread blocks; SIGUSR1 stays blocked for sigtimedwait.
static pid_t start_child(int* reports) {
    int fds[2];
    if (pipe(fds) != 0 || pipe(idle_pipe) != 0) exit(1);
    sem_id = semget(IPC_PRIVATE, 1, 0600);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        for (long i = 0; i < kCalls; ++i) {
            pthread_t t;
            pthread_create(&t, NULL, blocker, (void*)i);
        }
        for (;;) pause();
    }
    close(fds[1]);
    *reports = fds[0];
    return pid;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int thread_ids(pid_t pid, pid_t* tids, int max) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    int n = 0;
    FILE* p = NULL;
    char cmd[96];
    snprintf(cmd, sizeof cmd, "ls %s", path);
    p = popen(cmd, "r");
    while (p && n < max && fscanf(p, "%d", &tids[n]) == 1) ++n;
    if (p) pclose(p);
    return n;
}

// Each method stops every thread, holds them stopped 50 ms, and resumes them.
static void seize_interrupt_detach(pid_t pid) {
    pid_t tids[64];
    const int n = thread_ids(pid, tids, 64);
    for (int i = 0; i < n; ++i) ptrace(PTRACE_SEIZE, tids[i], 0, 0);
    for (int i = 0; i < n; ++i) ptrace(PTRACE_INTERRUPT, tids[i], 0, 0);
    for (int i = 0; i < n; ++i) waitpid(tids[i], NULL, __WALL);
    sleep_ms(50);
    for (int i = 0; i < n; ++i) ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

static void seize_groupstop_listen(pid_t pid) {
    pid_t tids[64];
    const int n = thread_ids(pid, tids, 64);
    for (int i = 0; i < n; ++i) ptrace(PTRACE_SEIZE, tids[i], 0, 0);
    kill(pid, SIGSTOP);
    int status;
    // The signal-delivery-stop of SIGSTOP: let it through so that the group stops.
    const pid_t first = waitpid(-1, &status, __WALL);
    ptrace(PTRACE_CONT, first, 0, SIGSTOP);
    for (int i = 0; i < n; ++i) waitpid(tids[i], &status, __WALL);  // group-stops
    for (int i = 0; i < n; ++i) ptrace(PTRACE_LISTEN, tids[i], 0, 0);
    sleep_ms(50);
    kill(pid, SIGCONT);
    sleep_ms(50);
    for (int i = 0; i < n; ++i) {
        ptrace(PTRACE_INTERRUPT, tids[i], 0, 0);
        waitpid(tids[i], &status, __WALL);
        ptrace(PTRACE_DETACH, tids[i], 0, 0);
    }
}

static void attach_detach(pid_t pid) {
    pid_t tids[64];
    const int n = thread_ids(pid, tids, 64);
    for (int i = 0; i < n; ++i) {
        ptrace(PTRACE_ATTACH, tids[i], 0, 0);
        waitpid(tids[i], NULL, __WALL);
    }
    sleep_ms(50);
    for (int i = 0; i < n; ++i) ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

static void job_control(pid_t pid) {
    kill(pid, SIGSTOP);
    sleep_ms(50);
    kill(pid, SIGCONT);
}

static void seize_only(pid_t pid) {  // the control: attached, never stopped
    pid_t tids[64];
    const int n = thread_ids(pid, tids, 64);
    const pid_t helper = fork();  // the tracer exits: the kernel detaches without a stop
    if (helper == 0) {
        for (int i = 0; i < n; ++i) ptrace(PTRACE_SEIZE, tids[i], 0, 0);
        sleep_ms(50);
        _exit(0);
    }
    waitpid(helper, NULL, 0);
}

int main(void) {
    struct {
        const char* name;
        void (*run)(pid_t);
    } methods[] = {
        {"PTRACE_SEIZE + PTRACE_INTERRUPT + PTRACE_DETACH", seize_interrupt_detach},
        {"PTRACE_SEIZE + SIGSTOP group-stop + PTRACE_LISTEN + SIGCONT", seize_groupstop_listen},
        {"PTRACE_ATTACH + PTRACE_DETACH", attach_detach},
        {"SIGSTOP + SIGCONT (no ptrace)", job_control},
        {"PTRACE_SEIZE only, no stop (control)", seize_only},
    };
    printf("%-62s", "method");
    for (int c = 0; c < kCalls; ++c) printf(" %12s", kNames[c]);
    printf("\n");
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; ++m) {
        int reports = -1;
        const pid_t child = start_child(&reports);
        sleep_ms(300);  // every thread blocked in its call
        methods[m].run(child);
        sleep_ms(300);  // every interrupted call has reported
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        int count[kCalls] = {0};
        char c;
        while (read(reports, &c, 1) == 1)
            if (c >= 0 && c < kCalls) ++count[(int)c];
        close(reports);
        close(idle_pipe[0]);
        close(idle_pipe[1]);
        semctl(sem_id, 0, IPC_RMID);
        printf("%-62s", methods[m].name);
        for (int k = 0; k < kCalls; ++k) printf(" %12s", count[k] ? "EINTR" : "-");
        printf("\n");
    }
    return 0;
}
