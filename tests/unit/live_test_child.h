// Child processes for the tests of src/live: forked (or exec'd) from the test and always killed
// and reaped by an RAII guard, whatever the test does.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dumpscope::testing {

inline std::vector<pid_t> list_tasks_of(pid_t pid) {
    std::vector<pid_t> tids;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* entry = ::readdir(d)) {
            if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') {
                tids.push_back(static_cast<pid_t>(std::stol(entry->d_name)));
            }
        }
        ::closedir(d);
    }
    return tids;
}

// A child process; the destructor SIGKILLs and reaps it.
class ChildProcess {
public:
    // Forks a child that runs body(report_fd, request_fd) and never returns into the test.
    static ChildProcess fork_with(const std::function<void(int, int)>& body) {
        int report[2], request[2];
        if (::pipe(report) != 0 || ::pipe(request) != 0) std::abort();
        pid_t pid = ::fork();
        if (pid < 0) std::abort();
        if (pid == 0) {
            ::close(report[0]);
            ::close(request[1]);
            body(report[1], request[0]);
            ::_exit(0);
        }
        ::close(report[1]);
        ::close(request[0]);
        return ChildProcess(pid, report[0], request[1]);
    }

    // Runs `path` with `argv` (argv[0] included).
    static ChildProcess exec(const std::string& path, const std::vector<std::string>& argv) {
        return fork_with([&](int, int) {
            std::vector<char*> args;
            for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
            args.push_back(nullptr);
            ::execv(path.c_str(), args.data());
            ::_exit(127);
        });
    }

    ChildProcess(ChildProcess&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)),
          report_fd_(std::exchange(other.report_fd_, -1)),
          request_fd_(std::exchange(other.request_fd_, -1)) {}
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ~ChildProcess() { kill_and_reap(); }

    pid_t pid() const { return pid_; }

    // Reads exactly size bytes from the child's report pipe; false on EOF or after timeout.
    bool read_report(void* out, size_t size, int timeout_ms = 30000) const {
        auto* bytes = static_cast<uint8_t*>(out);
        size_t done = 0;
        while (done < size) {
            pollfd fd{report_fd_, POLLIN, 0};
            int ready = ::poll(&fd, 1, timeout_ms);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return false;
            ssize_t n = ::read(report_fd_, bytes + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<size_t>(n);
        }
        return true;
    }

    bool send_request(const void* data, size_t size) const {
        return ::write(request_fd_, data, size) == static_cast<ssize_t>(size);
    }

    void kill_and_reap() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            // Threads we still trace (a broken freezer) would keep the leader from being
            // reaped: reap them too, and never wait forever.
            for (int i = 0; i < 20000; ++i) {
                int status = 0;
                int got = ::waitpid(pid_, &status, __WALL | WNOHANG);
                if (got == pid_ || (got < 0 && errno == ECHILD)) break;
                for (pid_t tid : list_tasks_of(pid_)) ::waitpid(tid, &status, __WALL | WNOHANG);
                ::usleep(500);
            }
            pid_ = -1;
        }
        if (report_fd_ >= 0) ::close(report_fd_);
        if (request_fd_ >= 0) ::close(request_fd_);
        report_fd_ = request_fd_ = -1;
    }

private:
    ChildProcess(pid_t pid, int report_fd, int request_fd)
        : pid_(pid), report_fd_(report_fd), request_fd_(request_fd) {}

    pid_t pid_ = -1;
    int report_fd_ = -1;
    int request_fd_ = -1;
};

inline pid_t current_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// /proc/PID/task/TID/stat state letter, or '\0' if the thread is gone.
inline char thread_state(pid_t pid, pid_t tid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return '\0';
    size_t close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() ? '\0' : line[close + 2];
}

inline std::vector<pid_t> list_tasks(pid_t pid) { return list_tasks_of(pid); }

// Waits (up to timeout) until no thread of pid is stopped ('t' or 'T'); true if so.
inline bool wait_all_running(pid_t pid, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        bool stopped = false;
        for (pid_t tid : list_tasks(pid)) {
            char state = thread_state(pid, tid);
            stopped = stopped || state == 't' || state == 'T';
        }
        if (!stopped) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        sleep_ms(5);
    }
}

// ---- The standard child: a marker, odd memory, and three named worker threads. ----

inline constexpr uint64_t kMarkerValue = 0x6d61726b65722121ull;  // "!!rekram"
inline constexpr uint64_t kGuardValue = 0x2121647261756721ull;

struct StandardReport {
    uint64_t marker_addr;
    uint64_t unmapped_addr;  // one readable page; the page after it is unmapped
    uint64_t guard_addr;     // page rw | page PROT_NONE | page rw starting with kGuardValue
    pid_t worker_tids[3];
};

inline volatile uint64_t g_child_marker = 0;

struct WorkerStart {
    pthread_barrier_t* barrier;
    pid_t* tid_out;
    int index;
};

inline void* worker_main(void* arg) {
    auto* start = static_cast<WorkerStart*>(arg);
    int index = start->index;
    char name[16];
    std::snprintf(name, sizeof(name), "worker-%d", index);
    ::pthread_setname_np(::pthread_self(), name);
    *start->tid_out = current_tid();
    ::pthread_barrier_wait(start->barrier);
    volatile uint64_t spins = 0;
    for (;;) {
        if (index == 0) {
            for (int i = 0; i < 100000; ++i) spins = spins + 1;  // mostly running
            ::sched_yield();
        } else {
            timespec ts{0, 10 * 1000 * 1000};
            ::nanosleep(&ts, nullptr);
        }
    }
    return nullptr;
}

// Body of the standard child: sets the marker, starts 3 workers, sends a StandardReport.
inline void standard_child_body(int report_fd, int /*request_fd*/) {
    g_child_marker = kMarkerValue;
    static pthread_barrier_t barrier;
    ::pthread_barrier_init(&barrier, nullptr, 4);
    static pid_t tids[3];
    static WorkerStart starts[3];
    for (int i = 0; i < 3; ++i) {
        starts[i] = WorkerStart{&barrier, &tids[i], i};
        pthread_t thread;
        ::pthread_create(&thread, nullptr, worker_main, &starts[i]);
    }
    ::pthread_barrier_wait(&barrier);

    const long page = ::sysconf(_SC_PAGESIZE);
    auto* two = static_cast<uint8_t*>(
        ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    two[0] = 1;
    ::munmap(two + page, page);
    auto* three = static_cast<uint8_t*>(
        ::mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    std::memset(three, 0x5a, 3 * page);
    std::memcpy(three + 2 * page, &kGuardValue, sizeof(kGuardValue));
    ::mprotect(three + page, page, PROT_NONE);

    StandardReport report{};
    report.marker_addr = reinterpret_cast<uint64_t>(&g_child_marker);
    report.unmapped_addr = reinterpret_cast<uint64_t>(two);
    report.guard_addr = reinterpret_cast<uint64_t>(three);
    for (int i = 0; i < 3; ++i) report.worker_tids[i] = tids[i];
    if (::write(report_fd, &report, sizeof(report)) != sizeof(report)) ::_exit(1);
    for (;;) ::pause();
}

}  // namespace dumpscope::testing
