// collect_dump's --clone steps: before the freeze, after the snapshot, and after the dump.
// With --clone off every step does nothing, and the dump is a plain ptrace dump.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "common/result.h"
#include "live/clone_source.h"
#include "live/live_snapshot.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

class CloneAttempt {
public:
    using Log = std::function<void(const std::string&)>;

    // Before the target is stopped: the checks that need no stop, and the reaper. A refusal is
    // an Error with --clone=required, else remembered for a ptrace dump.
    // `ptrace_options`: those the caller traces the target with (CloneOptions::ptrace_options).
    static Result<CloneAttempt> start(const CollectRequest& request, int32_t pid, Log log,
                                      long ptrace_options = 0);

    CloneAttempt(CloneAttempt&&) noexcept = default;
    CloneAttempt& operator=(CloneAttempt&&) = delete;

    // Resumes every stopped thread of the target and returns how long it was paused (ms).
    using ResumeTarget = std::function<double()>;

    // The target's threads `tids` held stopped by us and snapshotted (with
    // outside_the_pause()): make the clone, resume the target, read the modules and fds the
    // snapshot left out, and point `release` at the clone. When no clone can be made: an Error
    // with --clone=required; otherwise the reason goes into the capture notes, the modules and
    // fds are read at once and `release` is left alone (a ptrace dump).
    Status make(const std::vector<int32_t>& tids, const ResumeTarget& resume, Snapshot& snapshot,
                ReleaseTarget& release);

    // True once make() made a clone (the dump is read from it).
    bool made() const { return session_ && session_->clone_pid() != 0; }
    // CloneSession::reap_through: for a caller that traces the target and holds `tids` again.
    Status reap_through(const std::vector<int32_t>& tids) {
        return session_ ? session_->reap_through(tids) : Status::success();
    }
    // After the dump and after the target was resumed: reap the clone. Idempotent.
    void finish();

    // For snapshot_live_process: what was read before the freeze and what make() reads after
    // the resume (nothing without a clone).
    OutsideThePause outside_the_pause() const;

    // Lines for the user: what the clone dump holds that is not of the pause (CloneSession).
    std::vector<std::string> warnings() const {
        return session_ ? session_->warnings() : std::vector<std::string>{};
    }

    // Why --clone fell back to a ptrace dump; "" if it did not (or was not asked for).
    const std::string& refusal() const { return refusal_; }

private:
    CloneAttempt(CloneMode mode, int32_t pid, Log log)
        : mode_(mode), pid_(pid), log_(std::move(log)) {}
    Status refuse(const std::string& why, Snapshot* snapshot);

    CloneMode mode_ = CloneMode::kOff;
    int32_t pid_ = 0;
    Log log_;
    std::optional<CloneSession> session_;
    std::optional<SystemInfo> system_before_;
    std::string refusal_;
    double pause_ms_ = 0;
};

}  // namespace dumpscope
