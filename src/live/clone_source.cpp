#include "live/clone_source.h"

#include <fmt/format.h>
#include <sched.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

#include "common/units.h"
#include "live/child_processes.h"
#include "live/clone_preflight.h"
#include "live/clone_regions.h"
#include "live/injection_code.h"
#include "live/injection_site.h"
#include "live/live_memory_source.h"
#include "live/overlay_memory_source.h"
#include "live/proc_files.h"
#include "live/syscall_injector.h"
#include "live/test_stall.h"
#include "live/zombie_reaping.h"
#include "procfs/maps_parser.h"

namespace dumpscope {

namespace {

struct InjectingThread {
    int32_t tid = 0;
    bool suspend_seccomp = false;
};

// A thread in a plain interrupt stop, preferably without a seccomp filter.
Result<InjectingThread> choose_thread(int32_t pid, const std::vector<int32_t>& tids) {
    const bool may_suspend = can_suspend_seccomp();
    std::optional<InjectingThread> filtered;
    std::string refusal;
    for (int32_t tid : tids) {
        if (!in_interrupt_stop(tid)) continue;
        const int mode = seccomp_mode(pid, tid);
        if (mode == 0) return InjectingThread{tid, false};
        if (mode == 2 && may_suspend) {
            if (!filtered) filtered = InjectingThread{tid, true};
        } else if (mode == 2 && refusal.empty()) {
            refusal = fmt::format(
                "thread {} has a seccomp filter (Seccomp: 2) that may forbid or punish clone(), "
                "and suspending it needs CAP_SYS_ADMIN",
                tid);
        } else if (refusal.empty()) {
            refusal = fmt::format("thread {} is in seccomp mode {}", tid, mode);
        }
    }
    if (filtered) return *filtered;
    if (!refusal.empty()) return Error{refusal};
    return Error{"no thread of the target is in a plain ptrace interrupt stop"};
}

// The regions the clone lacks (MADV_DONTFORK) or reads as zeros (MADV_WIPEONFORK): copied from
// the target now when they fit in the budget, else left for after the resume (`late`).
void cover_unforked_regions(const Snapshot& snapshot, uint64_t budget,
                            std::vector<OverlayMemorySource::Patch>& patches,
                            std::vector<OverlayMemorySource::Hole>& holes,
                            std::vector<UnforkedRegion>& late, std::vector<std::string>& notes) {
    for (const UnforkedRegion& r : unforked_regions(snapshot.mappings, budget)) {
        if (!r.copy_in_pause) {
            late.push_back(r);
            continue;
        }
        OverlayMemorySource::Patch patch{r.start, std::vector<uint8_t>(r.size())};
        auto got = snapshot.memory->read(r.start, patch.bytes);
        const size_t read = got.ok() ? *got : 0;
        patch.bytes.resize(read);
        if (read < r.size())
            holes.push_back({r.start + read, r.end});  // unreadable, as in a plain dump
        patches.push_back(std::move(patch));
        notes.push_back(
            fmt::format("{:#x}-{:#x} ({}): not in the clone; copied from the target "
                        "while it was stopped",
                        r.start, r.end, r.advice));
    }
}

// "0x1000-0x2000, 0x5000-0x9000 and 3 more"
std::string some_ranges(const std::vector<UnforkedRegion>& regions) {
    std::string out;
    const size_t shown = std::min<size_t>(regions.size(), 3);
    for (size_t i = 0; i < shown; ++i) {
        out += fmt::format("{}{:#x}-{:#x}", i == 0 ? "" : ", ", regions[i].start, regions[i].end);
    }
    if (regions.size() > shown) out += fmt::format(" and {} more", regions.size() - shown);
    return out;
}

std::string shared_writable_note(const Snapshot& snapshot) {
    uint64_t bytes = 0;
    size_t count = 0;
    for (const Mapping& m : snapshot.mappings) {
        if (m.shared && m.write && m.read && !m.io) {
            bytes += m.size();
            ++count;
        }
    }
    if (count == 0) return {};
    return fmt::format(
        "{} shared writable mapping(s), {}: not copy-on-write, read from the clone "
        "after the target resumed (their bytes may be newer than the pause)",
        count, human_bytes(bytes));
}

std::string refusal_hint(int err) {
    auto overcommit = read_file_whole("/proc/sys/vm/overcommit_memory");
    if (err == ENOMEM && overcommit.ok() && chomp(*overcommit) == "2") {
        return " (vm.overcommit_memory is 2: the clone's private memory is committed again)";
    }
    if (err == EAGAIN) return " (a process limit: RLIMIT_NPROC, pids cgroup or pid_max)";
    return "";
}

}  // namespace

Result<CloneSession> CloneSession::prepare(int32_t pid, CloneOptions options) {
    DS_TRY(check_copy_on_write_room(pid));
    auto reaper = CloneReaper::spawn(pid, options.reaper_program);
    if (!reaper.ok()) return reaper.error();
    CloneSession session(pid, std::move(options), std::move(*reaper));
    auto smaps = read_file_whole(proc_dir(pid) + "/smaps");
    if (smaps.ok()) session.smaps_before_ = std::move(*smaps);
    return session;
}

CloneSession::CloneSession(CloneSession&& other) noexcept
    : pid_(other.pid_),
      options_(std::move(other.options_)),
      reaper_(std::move(other.reaper_)),
      child_(std::move(other.child_)),
      smaps_before_(std::move(other.smaps_before_)),
      target_memory_(std::move(other.target_memory_)),
      overlay_(std::move(other.overlay_)),
      late_(std::move(other.late_)),
      warnings_(std::move(other.warnings_)),
      finished_(std::exchange(other.finished_, true)) {
    other.reaper_.reset();
    other.child_.reset();
}

CloneSession::~CloneSession() { finish(); }

void CloneSession::log(const std::string& line) const {
    if (options_.log) options_.log(line);
}

Status CloneSession::make(const std::vector<int32_t>& tids, Snapshot& snapshot) {
    if (!snapshot.memory) return Error{"the snapshot has no memory source"};
    auto thread = choose_thread(pid_, tids);
    if (!thread.ok()) return thread.error();
    auto site = find_injection_site(snapshot.mappings, *snapshot.memory, snapshot.process.exe,
                                    snapshot.system.page_size);
    if (!site.ok()) return site.error();

    std::vector<OverlayMemorySource::Patch> patches;
    std::vector<OverlayMemorySource::Hole> holes;
    std::vector<std::string> notes;
    late_.clear();
    cover_unforked_regions(snapshot, options_.max_stop_copy_bytes, patches, holes, late_, notes);
    OverlayMemorySource::Patch site_bytes{site->address, std::vector<uint8_t>(kInjectionCodeSize)};
    auto got = snapshot.memory->read(site->address, site_bytes.bytes);
    if (!got.ok() || *got != kInjectionCodeSize) {
        return Error{fmt::format("the injection site {:#x} is not readable", site->address)};
    }
    DS_TRY(reaper_->injection_starts(list_children(pid_), site->address, site_bytes.bytes));
    patches.push_back(std::move(site_bytes));

    log(fmt::format("clone: thread {} runs clone() from {:#x} (padding of {}){}", thread->tid,
                    site->address, site->path,
                    thread->suspend_seccomp ? ", seccomp suspended" : ""));
    SyscallRequest request;
    request.number = SYS_clone;
    request.args = {CLONE_FILES, 0, 0, 0, 0, 0};  // exit signal 0: no SIGCHLD, no wait()
    request.fork_like = true;
    request.suspend_seccomp = thread->suspend_seccomp;
    request.ptrace_options = options_.ptrace_options;
    // The child stops by itself before its first instruction; waiting for that stop (it must
    // first be scheduled) and setting PTRACE_O_EXITKILL wait until the target runs again
    // (target_resumed): untraced meanwhile, the child would only run the exit at the site.
    auto outcome = inject_syscall(pid_, thread->tid, site->address, request, [&](int32_t child) {
        child_.emplace(child);
        (void)reaper_->announce_child(child);
        test_stall_point("clone-created");
    });
    if (!outcome.ok() || outcome->result < 0 || !child_) child_.reset();
    if (!outcome.ok()) return Error{"the injected clone() failed: " + outcome.error().message};
    if (outcome->result < 0) {
        const int err = static_cast<int>(-outcome->result);
        return Error{"the kernel refused the clone: " + std::string(std::strerror(err)) +
                     refusal_hint(err)};
    }
    if (!child_) return Error{"the clone was made but not caught"};

    // /proc/PID/mem, not process_vm_readv: the latter pins pages (FOLL_PIN), which makes the
    // kernel unshare every copy-on-write page it touches - a copy of the whole target, at half
    // the speed. /proc/PID/mem takes plain references and leaves the pages shared.
    auto memory = LiveMemorySource::open(child_->pid(), LiveMemorySource::Method::kProcMemOnly);
    if (!memory.ok()) {
        child_.reset();
        return Error{"cannot read the clone's memory: " + memory.error().message};
    }
    target_memory_ = snapshot.memory;  // the target's: what the clone lacks is read from it later
    overlay_ = std::make_shared<OverlayMemorySource>(*memory, std::move(patches), std::move(holes));
    snapshot.memory = overlay_;
    snapshot.capture.method = "clone";
    snapshot.capture.notes.push_back(fmt::format(
        "memory read from clone {} (made by thread {} with an injected clone(), exit signal 0) "
        "after the target resumed",
        child_->pid(), thread->tid));
    if (thread->suspend_seccomp) {
        snapshot.capture.notes.push_back(
            fmt::format("seccomp filter of thread {} suspended for the injected clone() "
                        "(PTRACE_O_SUSPEND_SECCOMP)",
                        thread->tid));
    }
    for (std::string& note : notes) snapshot.capture.notes.push_back(std::move(note));
    if (std::string shared = shared_writable_note(snapshot); !shared.empty()) {
        snapshot.capture.notes.push_back(std::move(shared));
    }
    log(fmt::format("clone: child {} made", child_->pid()));
    return {};
}

Status CloneSession::target_resumed(Snapshot& snapshot) {
    if (reaper_) reaper_->target_resumed();
    if (!child_) return Error{"no clone was made"};
    if (Status held = child_->take_hold(); !held.ok()) {
        child_.reset();
        return held;
    }
    log(fmt::format("clone: child {} held before its first instruction", clone_pid()));
    read_late_regions_from_target(snapshot);
    return {};
}

void CloneSession::read_late_regions_from_target(Snapshot& snapshot) {
    // The clone never runs, so its mappings are those of the pause: compared now, not while
    // the target is stopped (reading and comparing 150,000 mappings takes tens of ms).
    std::vector<UnforkedRegion> unmarked;
    auto text = read_file_whole(proc_dir(child_->pid()) + "/maps");
    auto theirs = text.ok() ? parse_maps(*text) : Result<std::vector<Mapping>>(text.error());
    if (!theirs.ok()) {
        snapshot.capture.notes.push_back(
            "the clone's mappings could not be compared with the target's (" +
            theirs.error().message + "): a region marked MADV_DONTFORK after its VmFlags were " +
            "read would be missing from the dump");
    } else {
        for (const Mapping* m : mappings_missing_from_clone(snapshot.mappings, *theirs)) {
            unmarked.push_back({m->start, m->end, "MADV_DONTFORK?", false});
        }
    }
    std::vector<OverlayMemorySource::Range> ranges;
    uint64_t total = 0;
    for (const UnforkedRegion& r : late_) {
        ranges.push_back({r.start, r.end});
        total += r.size();
        snapshot.capture.notes.push_back(fmt::format(
            "{:#x}-{:#x} ({}, {}): not in the clone and more than the {} copied while the "
            "target is stopped; read from the target after it resumed: not copy-on-write, "
            "its bytes may be newer than the pause",
            r.start, r.end, r.advice, human_bytes(r.size()),
            human_bytes(options_.max_stop_copy_bytes)));
    }
    for (const UnforkedRegion& r : unmarked) {
        ranges.push_back({r.start, r.end});
        total += r.size();
        snapshot.capture.notes.push_back(fmt::format(
            "{:#x}-{:#x}: not in the clone (marked MADV_DONTFORK after its VmFlags were read?); "
            "read from the target after it resumed: not copy-on-write, its bytes may be newer "
            "than the pause",
            r.start, r.end));
    }
    if (ranges.empty()) return;
    late_.insert(late_.end(), unmarked.begin(), unmarked.end());
    overlay_->redirect(target_memory_, ranges);
    warnings_.push_back(fmt::format(
        "{} region(s) not in the clone (MADV_DONTFORK / MADV_WIPEONFORK, {} in all: {}) are read "
        "from the target while it runs: not copy-on-write, their bytes may be newer than the "
        "pause",
        ranges.size(), human_bytes(total), some_ranges(late_)));
    log("clone: " + warnings_.back());
}

std::string CloneSession::memory_failure() const {
    if (!overlay_) return {};
    auto failed = overlay_->failed_redirect();
    if (!failed) return {};
    std::string what;
    for (const UnforkedRegion& r : late_) {
        if (r.start == failed->start) what = fmt::format(" ({})", r.advice);
    }
    return fmt::format(
        "{:#x}-{:#x}{}, not in the clone, could not be read from process {} after it resumed "
        "(it exited or unmapped the region); no dump written",
        failed->start, failed->end, what, pid_);
}

void CloneSession::release() {
    if (child_) child_->kill();
}

Status CloneSession::reap_through(const std::vector<int32_t>& tids) {
    if (!child_) return {};
    const int32_t clone = child_->pid();
    child_->kill();
    child_->reap();  // as its tracer: it is now an untraced zombie of the target's
    auto facts = read_child_facts(clone);
    if (!facts || facts->ppid != pid_) return {};  // gone already
    auto thread = choose_thread(pid_, tids);
    if (!thread.ok()) return thread.error();
    DS_TRY(reap_zombie_with_thread(pid_, thread->tid, facts->innermost_pid, options_.ptrace_options,
                                   thread->suspend_seccomp));
    log(fmt::format("clone: {} reaped through thread {}", clone, thread->tid));
    return {};
}

void CloneSession::finish() {
    if (finished_) return;
    finished_ = true;
    const int32_t clone = clone_pid();
    if (child_) {
        child_->kill();
        child_->reap();
    }
    if (reaper_ && !reaper_->finish() && clone != 0) {
        log(
            fmt::format("clone: {} could not be reaped through the target; it stays a zombie "
                        "until the target exits",
                        clone));
    }
}

}  // namespace dumpscope
