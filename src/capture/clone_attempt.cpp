#include "capture/clone_attempt.h"

#include <fmt/format.h>

#include <utility>

#include "live/cpu_handover.h"
#include "live/system_info.h"

namespace dumpscope {

namespace {

// How long the reading waits at most for the target's runnable threads to have run once.
constexpr std::chrono::microseconds kHandoverLimit{50000};

}  // namespace

Result<CloneAttempt> CloneAttempt::start(const CollectRequest& request, int32_t pid, Log log,
                                         long ptrace_options) {
    CloneAttempt attempt(request.clone, pid, log);
    if (request.clone == CloneMode::kOff) return attempt;
    CloneOptions options;
    options.log = std::move(log);
    options.ptrace_options = ptrace_options;
    auto session = CloneSession::prepare(pid, std::move(options));
    if (session.ok()) {
        attempt.session_.emplace(std::move(*session));
        if (auto system = read_system_info(); system.ok()) attempt.system_before_ = *system;
    } else {
        DS_TRY(attempt.refuse(session.error().message, nullptr));
    }
    return attempt;
}

Status CloneAttempt::refuse(const std::string& why, Snapshot* snapshot) {
    session_.reset();
    if (mode_ == CloneMode::kRequired) return Error{"cannot dump from a clone: " + why};
    refusal_ = why;
    if (snapshot != nullptr) snapshot->capture.notes.push_back("no clone: " + why);
    if (log_) log_("no clone: " + why + "; a ptrace dump instead");
    return {};
}

OutsideThePause CloneAttempt::outside_the_pause() const {
    OutsideThePause outside;
    if (!session_) return outside;
    outside.smaps_before = session_->smaps_before();
    outside.system_before = system_before_ ? &*system_before_ : nullptr;
    outside.modules_and_fds_later = true;
    return outside;
}

Status CloneAttempt::make(const std::vector<int32_t>& tids, const ResumeTarget& resume,
                          Snapshot& snapshot, ReleaseTarget& release) {
    if (mode_ == CloneMode::kOff) return {};
    if (!session_) return refuse(refusal_, &snapshot);  // refused before the freeze
    if (Status made = session_->make(tids, snapshot); !made.ok()) {
        read_modules_and_fds(pid_, snapshot);  // the target is still stopped
        return refuse(made.error().message, &snapshot);
    }
    pause_ms_ = resume();
    // Let the target's threads have the CPUs first: the clone is read on every core right after
    // this, and a thread that waits for a CPU still feels the pause. The wait is measured, so
    // the pause is also reported as the target felt it.
    const CpuWait waited = CpuHandover::begin(pid_, tids).wait_until_run(kHandoverLimit);
    const char* bound = waited.timed_out ? "at least" : "up to";
    const std::string felt =
        waited.tid == 0
            ? fmt::format(
                  "target paused {:.1f} ms; its threads ran again without waiting for a "
                  "CPU ({} watched, /proc schedstat)",
                  pause_ms_, waited.watched)
            : fmt::format(
                  "target paused {:.1f} ms by dumpscope's clock; its threads then waited "
                  "{} {:.1f} ms for a CPU (thread {}, of {} watched; /proc schedstat): "
                  "paused {} {:.1f} ms as the target felt it",
                  pause_ms_, bound, waited.longest_ms, waited.tid, waited.watched, bound,
                  pause_ms_ + waited.longest_ms);
    snapshot.capture.notes.push_back(felt);
    if (log_) log_(felt);
    if (Status held = session_->target_resumed(snapshot); !held.ok()) {
        return Error{held.error().message + "; no dump written"};
    }
    // Through the clone: its memory is the target's at the pause, it shares the target's fd table
    // (CLONE_FILES), and it is there even if the target exits right after the resume.
    read_modules_and_fds(session_->clone_pid(), snapshot);
    if (log_)
        log_(
            fmt::format("target resumed after {:.1f} ms; writing from the clone ({} modules, "
                        "{} fds read after the resume)",
                        pause_ms_, snapshot.modules.size(), snapshot.fds.size()));
    CloneSession& session = *session_;
    release.memory_source_alive = [&session] { return session.clone_alive(); };
    release.release = [&session, pause = pause_ms_](CaptureRecord& record) {
        session.release();
        record.pause_ms = pause;
    };
    release.memory_failure = [&session] { return session.memory_failure(); };
    release.vanished_error = fmt::format(
        "the clone {} of process {} was killed during the dump (out of memory?); no dump written",
        session.clone_pid(), pid_);
    return {};
}

void CloneAttempt::finish() {
    if (session_) session_->finish();
}

}  // namespace dumpscope
