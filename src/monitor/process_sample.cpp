#include "monitor/process_sample.h"

#include <fmt/format.h>
#include <unistd.h>

#include <sstream>

#include "live/proc_files.h"
#include "procfs/stat_parser.h"

namespace dumpscope {

namespace {

Error gone(int32_t pid) { return Error{"process " + std::to_string(pid) + " has exited"}; }

uint64_t page_size() {
    static const uint64_t size = [] {
        long value = ::sysconf(_SC_PAGESIZE);
        return value > 0 ? static_cast<uint64_t>(value) : uint64_t{4096};
    }();
    return size;
}

// statm: "size resident shared text lib data dt" in pages.
uint64_t resident_bytes(const std::string& statm) {
    std::istringstream in(statm);
    uint64_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * page_size();
}

ThreadSample sample_thread(int32_t pid, int32_t tid, bool with_syscall) {
    ThreadSample t;
    t.tid = tid;
    const std::string dir = task_dir(pid, tid);
    if (auto text = read_file_whole(dir + "/stat")) {
        if (auto stat = parse_stat(*text)) t.state = stat->state;
    }
    if (auto text = read_file_whole(dir + "/schedstat")) {
        std::istringstream in(*text);
        in >> t.runtime_ns;
    }
    if (with_syscall) {
        if (auto text = read_file_whole(dir + "/syscall")) t.syscall = chomp(*text);
    }
    return t;
}

}  // namespace

Result<ProcessSample> sample_process(int32_t pid, const SampleWanted& wanted) {
    ProcessSample sample;
    sample.when = std::chrono::steady_clock::now();
    int err = 0;
    auto stat_text = read_file_whole(proc_dir(pid) + "/stat", &err);
    if (!stat_text) return is_gone_errno(err) ? gone(pid) : stat_text.error();
    auto stat = parse_stat(*stat_text);
    if (!stat) return stat.error();
    if (stat->state == 'Z' || stat->state == 'X') return gone(pid);
    sample.state = stat->state;
    sample.cpu_ns = ticks_to_ns(stat->utime_ticks + stat->stime_ticks);
    sample.threads = stat->num_threads;

    auto statm = read_file_whole(proc_dir(pid) + "/statm", &err);
    if (!statm) return is_gone_errno(err) ? gone(pid) : statm.error();
    sample.rss_bytes = resident_bytes(*statm);

    if (wanted.fds) {
        auto fds = list_numeric_dir(proc_dir(pid) + "/fd");
        sample.fds = fds ? static_cast<int64_t>(fds->size()) : -1;
    }
    if (wanted.threads || wanted.syscall_of != 0) {
        auto tids = list_numeric_dir(proc_dir(pid) + "/task", &err);
        if (!tids) return is_gone_errno(err) ? gone(pid) : tids.error();
        for (int32_t tid : *tids) {
            const bool syscall = tid == wanted.syscall_of;
            if (wanted.threads || syscall)
                sample.thread_samples.push_back(sample_thread(pid, tid, syscall));
        }
    }
    return sample;
}

double cpu_percent(const ProcessSample& before, const ProcessSample& after) {
    const auto wall =
        std::chrono::duration_cast<std::chrono::nanoseconds>(after.when - before.when);
    if (wall.count() <= 0 || after.cpu_ns < before.cpu_ns) return 0;
    return 100.0 * static_cast<double>(after.cpu_ns - before.cpu_ns) /
           static_cast<double>(wall.count());
}

std::string describe_sample(const ProcessSample& sample, const ProcessSample* previous) {
    std::string text;
    if (previous != nullptr) text = fmt::format("cpu {:.0f}%, ", cpu_percent(*previous, sample));
    text +=
        fmt::format("memory {} MB, threads {}", sample.rss_bytes / (1024 * 1024), sample.threads);
    if (sample.fds >= 0) text += fmt::format(", fds {}", sample.fds);
    return text;
}

}  // namespace dumpscope
