// The clone's undertaker: a small process that outlives dumpscope if it must and makes sure the
// clone leaves no trace. A clone made with exit signal 0 is a child of the target that the
// target never waits for, so when it dies it stays a zombie of the target; only a thread of the
// target can reap it (zombie_reaping.h). dumpscope starts the reaper before it stops the target
// and tells it, through a pipe, which children the target already had and which child it made.
// When the pipe closes - dumpscope finished, or died, even by SIGKILL - the reaper kills what is
// left of the clone (PTRACE_O_EXITKILL normally did already) and reaps it through the target;
// if dumpscope died in the middle of the injection, it also puts the site's bytes back.
//
// The reaper is dumpscope itself, executed again from /proc/self/exe with kCloneReaperArg (the
// CLI's main() hands that over to clone_reaper_main), in its own session, ignoring SIGINT,
// SIGTERM and SIGHUP, with stdin/stdout/stderr on /dev/null.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace dumpscope {

inline constexpr const char* kCloneReaperArg = "--internal-clone-reaper";

class CloneReaper {
public:
    // `program` is executed with kCloneReaperArg; it must be the dumpscope CLI.
    static Result<CloneReaper> spawn(int32_t target, const std::string& program = "/proc/self/exe");

    CloneReaper(CloneReaper&& other) noexcept;
    CloneReaper& operator=(CloneReaper&&) = delete;
    CloneReaper(const CloneReaper&) = delete;
    ~CloneReaper();  // finish()

    // While the target is stopped, before the injection: the children it has (not the clone),
    // and the injection site with its own bytes (put back by the reaper if dumpscope died before
    // it could).
    Status injection_starts(const std::vector<int32_t>& existing_children, uint64_t site,
                            std::span<const uint8_t> site_bytes);
    // The clone, as soon as it exists.
    Status announce_child(int32_t child);
    // The target runs again: a child that appears after this is not the clone.
    void target_resumed();
    // Closes the pipe and waits up to `timeout` for the reaper. True if it reaped everything it
    // had to. Idempotent (later calls return the first answer).
    bool finish(std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    CloneReaper(pid_t reaper, UniqueFd pipe) : reaper_(reaper), pipe_(std::move(pipe)) {}
    Status send(const std::string& line);

    pid_t reaper_ = -1;
    UniqueFd pipe_;
    bool finished_ = false;
    bool succeeded_ = false;
};

// main() of the reaper: argv = {name, kCloneReaperArg, FD, TARGET_PID, TARGET_STARTTIME,
// TRACER_TID} (the dumpscope thread that stops the target).
int clone_reaper_main(int argc, char** argv);

}  // namespace dumpscope
