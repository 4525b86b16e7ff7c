// Source: a live process dumped from a copy-on-write clone of itself (Process Reflection for
// Linux). While the target is stopped, one of its threads is made to run clone() with exit
// signal 0 and CLONE_FILES (syscall_injector.h); the child is traced from birth and never runs
// (cloned_child.h). The target is resumed at once and the dump is written from the child's
// frozen copy of its memory, with the threads, registers, /proc data and modules read from the
// target itself during the stop. docs/clone-dumps.md has the whole argument.
//
// Use, on one thread:  prepare() before stopping the target; make() while it is stopped and
// after its snapshot; resume the target and call target_resumed(); write the dump; release()
// when the last byte of memory is read; finish() (or the destructor) last.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "live/clone_reaper.h"
#include "live/clone_regions.h"
#include "live/cloned_child.h"
#include "live/overlay_memory_source.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

struct CloneOptions {
    // MADV_DONTFORK / MADV_WIPEONFORK regions (which the clone lacks) are copied from the target
    // during the stop up to this many bytes in all; beyond it they are read from the target
    // after it resumed (not copy-on-write: their bytes may be newer than the pause).
    uint64_t max_stop_copy_bytes = 64u << 20;
    std::string reaper_program = "/proc/self/exe";  // the dumpscope CLI (clone_reaper.h)
    // The ptrace options the caller traces the target's threads with (the monitor's): the
    // injecting thread gets them back after the clone.
    long ptrace_options = 0;
    std::function<void(const std::string&)> log;
};

class CloneSession {
public:
    // Before the target is stopped: room for copy-on-write (clone_preflight.h), its smaps read,
    // and the reaper started. Error: why no clone can be made.
    static Result<CloneSession> prepare(int32_t pid, CloneOptions options);

    CloneSession(CloneSession&& other) noexcept;
    CloneSession& operator=(CloneSession&&) = delete;
    ~CloneSession();  // finish()

    // `tids`: every thread of the target, each held by the calling thread in a ptrace stop;
    // `snapshot` was just taken from them. On success snapshot.memory reads the clone,
    // capture.method is "clone" and capture.notes say how the clone was made. Error: why no
    // clone (a thread with a seccomp filter that cannot be suspended, no thread in a plain
    // interrupt stop, no injection site, the kernel refused the clone); the target and the
    // snapshot are then as they were.
    Status make(const std::vector<int32_t>& tids, Snapshot& snapshot);

    // /proc/PID/smaps read by prepare(), for snapshot_live_process (keeps it out of the pause).
    const std::string* smaps_before() const {
        return smaps_before_.empty() ? nullptr : &smaps_before_;
    }
    int32_t clone_pid() const { return child_ ? child_->pid() : 0; }
    // After the caller resumed the target: waits for the clone's first stop (before its first
    // instruction) and ties its life to dumpscope's; compares the clone's mappings with the
    // snapshot's and points the regions the clone lacks (and that were not copied during the
    // pause) at the running target, with a note each. Error: the clone vanished meanwhile.
    Status target_resumed(Snapshot& snapshot);
    // Lines for the user (stderr): regions read from the target after the resume.
    const std::vector<std::string>& warnings() const { return warnings_; }
    // Why the memory written is not what the dump claims (a region read from the target after
    // the resume could not be read), naming the region; "" when nothing failed.
    std::string memory_failure() const;
    // The clone still exists (after release(): it did when it was killed).
    bool clone_alive() const { return child_ && child_->alive(); }
    // Every byte has been read from the clone: kill it.
    void release();
    // For a caller that traces the target itself (the monitor), where the reaper cannot stop a
    // thread of it: after the dump, with the target's threads `tids` held stopped again, kills
    // the clone and reaps its zombie through one of them (zombie_reaping.h).
    Status reap_through(const std::vector<int32_t>& tids);
    // Reaps the clone and waits for the reaper to clean up after it. Idempotent.
    void finish();

private:
    CloneSession(int32_t pid, CloneOptions options, CloneReaper reaper)
        : pid_(pid), options_(std::move(options)), reaper_(std::move(reaper)) {}
    void log(const std::string& line) const;
    void read_late_regions_from_target(Snapshot& snapshot);

    int32_t pid_;
    CloneOptions options_;
    std::optional<CloneReaper> reaper_;
    std::optional<ClonedChild> child_;
    std::string smaps_before_;
    std::shared_ptr<const MemorySource> target_memory_;
    std::shared_ptr<OverlayMemorySource> overlay_;
    std::vector<UnforkedRegion> late_;  // read from the target after the resume
    std::vector<std::string> warnings_;
    bool finished_ = false;
};

}  // namespace dumpscope
