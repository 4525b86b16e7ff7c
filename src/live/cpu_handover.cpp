#include "live/cpu_handover.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "live/proc_files.h"

namespace dumpscope {

namespace {

struct SchedStat {
    uint64_t run_ns = 0, run_delay_ns = 0, slices = 0;
};

bool read_schedstat(int32_t pid, int32_t tid, SchedStat& out) {
    auto text = read_file_whole(task_dir(pid, tid) + "/schedstat");
    if (!text.ok()) return false;
    unsigned long long run = 0, delay = 0, slices = 0;
    if (std::sscanf(text->c_str(), "%llu %llu %llu", &run, &delay, &slices) != 3) return false;
    out = {run, delay, slices};
    return true;
}

// 'R' (running or waiting for a CPU), 'S', 'D', ... or 0 if the thread is gone.
char thread_state(int32_t pid, int32_t tid) {
    auto text = read_file_whole(task_dir(pid, tid) + "/stat");
    if (!text.ok()) return 0;
    const size_t paren = text->rfind(')');  // the name may hold anything
    if (paren == std::string::npos || paren + 2 >= text->size()) return 0;
    return (*text)[paren + 2];
}

}  // namespace

CpuHandover CpuHandover::begin(int32_t pid, const std::vector<int32_t>& tids) {
    CpuHandover handover;
    handover.pid_ = pid;
    handover.began_ = std::chrono::steady_clock::now();
    for (size_t i = 0; i < tids.size() && i < kMaxWatched; ++i) {
        Watched w;
        w.tid = tids[i];
        SchedStat s;
        if (read_schedstat(pid, tids[i], s)) {
            w.run_delay_ns = s.run_delay_ns;
            w.slices = s.slices;
            w.known = true;
        }
        handover.threads_.push_back(w);
    }
    return handover;
}

CpuWait CpuHandover::wait_until_run(std::chrono::microseconds limit) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + limit;
    std::vector<const Watched*> pending;
    for (const Watched& w : threads_) {
        if (w.known) pending.push_back(&w);
    }
    for (;;) {
        std::erase_if(pending, [&](const Watched* w) {
            SchedStat s;
            if (!read_schedstat(pid_, w->tid, s)) return true;  // gone
            if (s.slices != w->slices) return true;             // it ran
            return thread_state(pid_, w->tid) != 'R';           // asleep: needs no CPU
        });
        if (pending.empty() || Clock::now() >= deadline) break;
        timespec step{0, 200 * 1000};
        ::nanosleep(&step, nullptr);
    }
    CpuWait out;
    out.timed_out = !pending.empty();
    if (out.timed_out) {  // still waiting: its wait is not in run_delay yet
        out.longest_ms = std::chrono::duration<double, std::milli>(Clock::now() - began_).count();
        out.tid = pending.front()->tid;
    }
    for (const Watched& w : threads_) {
        if (!w.known) continue;
        ++out.watched;
        SchedStat s;
        if (!read_schedstat(pid_, w.tid, s)) continue;
        const double waited = static_cast<double>(s.run_delay_ns - w.run_delay_ns) / 1e6;
        if (waited > out.longest_ms) {
            out.longest_ms = waited;
            out.tid = w.tid;
        }
    }
    return out;
}

}  // namespace dumpscope
