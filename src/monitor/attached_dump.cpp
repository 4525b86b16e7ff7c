#include "monitor/attached_dump.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "capture/clone_attempt.h"
#include "live/proc_files.h"
#include "monitor/signal_info.h"
#include "output/dump_file.h"
#include "procfs/stat_parser.h"

namespace dumpscope {

namespace {

constexpr std::chrono::milliseconds kStopTimeout{10000};

// The memory is readable while the thread we read it through has not exited.
bool thread_alive(int32_t pid, int32_t tid) {
    auto text = read_file_whole(task_dir(pid, tid) + "/stat");
    if (!text) return false;
    auto stat = parse_stat(*text);
    return stat && stat->state != 'Z' && stat->state != 'X';
}

Status add_exception(Snapshot& snapshot, int32_t tid) {
    auto info = read_signal_info(tid);
    if (!info) return info.error();
    auto thread = std::find_if(snapshot.threads.begin(), snapshot.threads.end(),
                               [tid](const Thread& t) { return t.tid == tid; });
    if (thread == snapshot.threads.end())
        return Error{fmt::format("thread {} that received the signal is not in the snapshot", tid)};
    ExceptionInfo exception;
    exception.tid = tid;
    exception.signal = *info;
    exception.context = thread->regs;  // a signal-delivery-stop: the registers at the fault
    snapshot.exception = std::move(exception);
    return Status::success();
}

}  // namespace

Result<CollectResult> dump_attached(TracedProcess& traced, const CollectRequest& request,
                                    int32_t signal_tid) {
    const auto started = std::chrono::steady_clock::now();
    const int32_t pid = traced.pid();
    auto path = choose_output_path(request, pid);
    if (!path) return path.error();
    auto file = DumpFile::create(*path, request.overwrite, request.compress_level);
    if (!file) return file.error();
    auto clone = CloneAttempt::start(request, pid, request.log, traced.ptrace_options());
    if (!clone) return clone.error();

    AllStopped stopped = traced.stop_all(kStopTimeout);
    StoppedThreads threads = stopped.threads();
    threads.outside = clone->outside_the_pause();
    auto snapshot = snapshot_stopped_threads(threads);
    if (!snapshot) return snapshot.error();
    for (const std::string& note : stopped.notes) snapshot->capture.notes.push_back(note);
    snapshot->capture.method = "ptrace";
    if (signal_tid != 0) DS_TRY(add_exception(*snapshot, signal_tid));

    // Read memory through a thread that is surely stopped: the held one, else the first.
    const int32_t reader = signal_tid != 0 ? signal_tid : stopped.threads().tids.front();
    ReleaseTarget release;
    release.memory_source_alive = [pid, reader] { return thread_alive(pid, reader); };
    release.release = [&stopped](CaptureRecord& record) {
        stopped.release();
        record.pause_ms = stopped.paused_ms();
    };
    // A clone is made by a thread in an interrupt stop, never by the one held at its signal,
    // which stays stopped for the monitor to resume with that signal.
    auto resume = [&stopped] {
        stopped.release();
        return stopped.paused_ms();
    };
    DS_TRY(clone->make(threads.tids, resume, *snapshot, release));
    auto result = write_snapshot_dump(*snapshot, request, *file, release);
    stopped.release();  // on every path
    if (clone->made()) {
        // The reaper cannot stop a thread we trace: reap the clone's zombie ourselves, in a
        // second stop of well under a millisecond.
        AllStopped again = traced.stop_all(kStopTimeout);
        if (Status reaped = clone->reap_through(again.threads().tids); !reaped.ok()) {
            if (request.log)
                request.log("clone not reaped through the target: " + reaped.error().message);
        }
    }
    clone->finish();
    if (!result) return result.error();
    result->clone_fallback = clone->refusal();
    result->clone_warnings = clone->warnings();
    result->total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    return result;
}

}  // namespace dumpscope
