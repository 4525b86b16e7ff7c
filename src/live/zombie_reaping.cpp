#include "live/zombie_reaping.h"

#include <fmt/format.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "live/injection_site.h"
#include "live/live_memory_source.h"
#include "live/proc_files.h"
#include "live/syscall_injector.h"
#include "live/thread_ptrace.h"
#include "procfs/maps_parser.h"

namespace dumpscope {

namespace {

// One thread of `parent` held in an interrupt stop for the length of this object.
class OneThreadStop {
public:
    static Result<OneThreadStop> stop_any(int32_t parent) {
        auto tids = list_numeric_dir(proc_dir(parent) + "/task");
        if (!tids.ok()) return Error{fmt::format("process {} is gone", parent)};
        std::stable_partition(tids->begin(), tids->end(), [&](int32_t t) { return t == parent; });
        for (int32_t tid : *tids) {
            if (seize_thread(tid) != 0) continue;
            (void)interrupt_thread(tid);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            ThreadStop stop = wait_for_stop(tid, deadline);
            if (stop.kind == ThreadStop::Kind::kStopped && stop.pending_signal == 0 &&
                in_interrupt_stop(tid)) {
                return OneThreadStop(tid);
            }
            detach_thread(tid, stop.pending_signal);
        }
        return Error{fmt::format("no thread of process {} could be stopped", parent)};
    }
    OneThreadStop(OneThreadStop&& other) noexcept : tid_(std::exchange(other.tid_, 0)) {}
    OneThreadStop& operator=(OneThreadStop&&) = delete;
    ~OneThreadStop() {
        if (tid_ != 0) detach_thread(tid_, 0);
    }
    int32_t tid() const { return tid_; }

private:
    explicit OneThreadStop(int32_t tid) : tid_(tid) {}
    int32_t tid_;
};

}  // namespace

namespace {

Result<InjectionSite> site_in(int32_t parent) {
    auto maps = read_file_whole(proc_dir(parent) + "/maps");
    if (!maps.ok()) return Error{fmt::format("process {} is gone", parent)};
    auto mappings = parse_maps(*maps);
    if (!mappings.ok()) return mappings.error();
    auto memory = LiveMemorySource::open(parent);
    if (!memory.ok()) return memory.error();
    auto exe_link = read_link(proc_dir(parent) + "/exe");
    const std::string exe = exe_link.ok() ? *exe_link : std::string();
    const long page = ::sysconf(_SC_PAGESIZE);
    return find_injection_site(*mappings, **memory, exe, page > 0 ? page : 4096);
}

Status wait4_in(int32_t parent, int32_t tid, uint64_t site, int32_t child_pid,
                long ptrace_options = 0, bool suspend_seccomp = false) {
    SyscallRequest wait;
    wait.ptrace_options = ptrace_options;
    wait.suspend_seccomp = suspend_seccomp;
    wait.number = SYS_wait4;
    wait.args = {static_cast<uint64_t>(child_pid), 0, __WALL | WNOHANG, 0, 0, 0};
    wait.timeout = std::chrono::milliseconds(5000);
    auto outcome = inject_syscall(parent, tid, site, wait);
    if (!outcome.ok()) return outcome.error();
    if (outcome->result != child_pid) {
        return Error{
            fmt::format("wait4({}) in process {} returned {}", child_pid, parent, outcome->result)};
    }
    return {};
}

}  // namespace

Status reap_zombie_through_parent(int32_t parent, int32_t child_pid) {
    auto site = site_in(parent);
    if (!site.ok()) return site.error();
    auto stopped = OneThreadStop::stop_any(parent);
    if (!stopped.ok()) return stopped.error();
    return wait4_in(parent, stopped->tid(), site->address, child_pid);
}

Status reap_zombie_with_thread(int32_t parent, int32_t held_tid, int32_t child_pid,
                               long ptrace_options, bool suspend_seccomp) {
    auto site = site_in(parent);
    if (!site.ok()) return site.error();
    return wait4_in(parent, held_tid, site->address, child_pid, ptrace_options, suspend_seccomp);
}

}  // namespace dumpscope
