// One look at a running process through /proc, without stopping it: CPU time, resident memory,
// thread and descriptor counts, and (for hang detection) each thread's state, run time and
// system call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

struct ThreadSample {
    int32_t tid = 0;
    char state = '?';         // R, S, D, t, ...
    uint64_t runtime_ns = 0;  // /proc/PID/task/TID/schedstat, first field
    std::string syscall;      // /proc/PID/task/TID/syscall: "202 0x... ..." or "running"
};

struct ProcessSample {
    std::chrono::steady_clock::time_point when;
    char state = '?';
    uint64_t cpu_ns = 0;  // utime + stime of the whole process, dead threads included
    uint64_t rss_bytes = 0;
    int64_t threads = 0;
    int64_t fds = -1;                          // -1 when /proc/PID/fd is unreadable
    std::vector<ThreadSample> thread_samples;  // only when asked for
};

struct SampleWanted {
    bool fds = false;
    bool threads = false;    // per-thread state and run time
    int32_t syscall_of = 0;  // read this thread's system call (0: none)
};

// Errors: the process is gone ("process N has exited") or /proc is unreadable.
Result<ProcessSample> sample_process(int32_t pid, const SampleWanted& wanted);

// CPU use between two samples, 100 per fully used core.
double cpu_percent(const ProcessSample& before, const ProcessSample& after);

// One sample in words, as `collect --verbose` prints it per poll: "cpu 12%, memory 33 MB,
// threads 2, fds 23". CPU needs the previous sample (left out without one); fds only when read.
std::string describe_sample(const ProcessSample& sample, const ProcessSample* previous);

}  // namespace dumpscope
