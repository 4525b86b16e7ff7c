// The clone: a copy-on-write child of the target, made by an injected clone() and traced by
// dumpscope from its creation. It is held in a ptrace stop before its first instruction for its
// whole life, dies with dumpscope (PTRACE_O_EXITKILL), is the first victim of the OOM killer
// (oom_score_adj 1000), and is killed and reaped (as its tracer) when this object goes away.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace dumpscope {

class ClonedChild {
public:
    explicit ClonedChild(int32_t pid) : pid_(pid) {}
    ClonedChild(ClonedChild&& other) noexcept;
    ClonedChild& operator=(ClonedChild&&) = delete;
    ClonedChild(const ClonedChild&) = delete;
    ~ClonedChild();  // kill() and reap()

    // Waits for its first stop, then sets PTRACE_O_EXITKILL (replacing the options it inherited
    // from the injecting thread) and oom_score_adj. Call on the tracer thread.
    Status take_hold();

    int32_t pid() const { return pid_; }
    // Still there and not a zombie; after kill(), whether it was at that moment.
    bool alive() const;
    // SIGKILL, once: its memory is no longer needed.
    void kill();
    // Collects its death as its tracer (bounded wait). After this only a zombie of the target is
    // left, for the reaper (clone_reaper.h).
    void reap();

private:
    bool exists_now() const;

    int32_t pid_ = 0;
    bool killed_ = false;
    bool alive_when_killed_ = false;
    bool reaped_ = false;
};

}  // namespace dumpscope
