// Capture: a live source followed by a writer, steered by a plan. Resolves the target, picks
// the output name, freezes the process, snapshots it, plans, writes, resumes, commits.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "output/dump_file.h"
#include "plan/plan.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

enum class DumpFormat { Minidump, ElfCore };

// --clone: write the dump from a copy-on-write clone, so the target is stopped only while the
// clone is made (docs/clone-dumps.md). Preferred falls back to a ptrace dump with the reason.
enum class CloneMode { kOff, kPreferred, kRequired };

struct CollectRequest {
    std::string target;  // PID or process name
    std::string output;  // file or directory; "" = current directory
    // >= 0: the dump is written into this descriptor (a regular file the caller owns, see
    // DumpFile::adopt_descriptor) and `output` is ignored.
    int output_fd = -1;
    // Threads of the target left running and out of the dump (the library's callback thread).
    std::vector<int32_t> leave_running;
    // Called while the target is frozen, after its snapshot is taken and before the plan: the
    // library's helper adds the exception (from the crashing thread's ucontext) and the
    // annotations stream here. An error voids the dump.
    std::function<Status(Snapshot&, PlanOptions&)> before_plan;
    DumpFormat format = DumpFormat::Minidump;
    PlanOptions plan;
    bool overwrite = false;
    // Set: the dump is written zstd-compressed at this level (the seekable format, .zst added to
    // default names).
    std::optional<int> compress_level;
    std::string trigger = "manual";
    std::string trigger_detail;
    // Convert: the snapshot's capture time is the input's (0 when unknown) and stays; a capture
    // records the time of writing.
    bool keep_capture_time = false;
    CloneMode clone = CloneMode::kOff;
    std::function<void(uint64_t, uint64_t)> progress;  // bytes written, total
    std::function<void(const std::string&)> log;       // --verbose step messages
};

struct CollectResult {
    std::string path;
    int32_t pid = 0;
    uint64_t file_size = 0;
    uint64_t disk_usage = 0;
    uint64_t memory_bytes = 0;
    size_t threads = 0;
    size_t modules = 0;
    double pause_ms = 0;
    double total_ms = 0;
    std::string method;          // "ptrace", "clone", ...
    std::string clone_fallback;  // why --clone wrote a ptrace dump instead; "" otherwise
    std::vector<std::string> clone_warnings;  // what a clone dump holds that is not of the pause
};

// A plain dump, at once: resolve, create the file, freeze, snapshot, write_snapshot_dump.
Result<CollectResult> collect_dump(const CollectRequest& request);

// How a capture source lets go of its target once every byte has been copied.
struct ReleaseTarget {
    // Resumes the target (thaw, kill a clone, ...) and records the pause in record.pause_ms.
    // Called exactly once, from inside the writer or after it failed.
    std::function<void(CaptureRecord&)> release;
    // False when the process the memory is read from died during the dump (the dump is void).
    std::function<bool()> memory_source_alive;
    // The error when the memory source vanished, if it is not the target itself (a clone).
    std::string vanished_error;
    // Checked after the write: why the memory written is not what the dump claims ("" when it
    // is); a non-empty answer voids the dump, as a vanished source does.
    std::function<std::string()> memory_failure;
    // A target waits until release: a compressed dump must not make it wait for compression
    // (DumpFile::set_never_block until then). False when nothing waits (a file converted).
    bool target_waits = true;
};

// The part every source shares: plan, write in the requested format, release the target as
// soon as memory is copied, check nothing vanished or was cancelled, commit. The capture record
// written is the snapshot's (the source set its method and notes) with the type, flags, trigger
// and time of this request, the pause and write times, and the notes of the write (unreadable
// ranges) after the snapshot's; the snapshot itself is not changed.
Result<CollectResult> write_snapshot_dump(const Snapshot& snapshot, const CollectRequest& request,
                                          DumpFile& file, const ReleaseTarget& release_target);

// OUTPUT resolved for this pid: a directory gets the default name.
Result<std::string> choose_output_path(const CollectRequest& request, int32_t pid);

// The file the dump of `pid` goes to: the request's descriptor, or a new DumpFile at
// choose_output_path.
Result<DumpFile> open_output(const CollectRequest& request, int32_t pid);

// "<name>_<YYYYMMDD_HHMMSS>.<pid>.dmp" (trigger other than manual: "<name>_<trigger>_<time>...").
std::string default_dump_name(const std::string& process_name, int32_t pid,
                              const std::string& trigger, DumpFormat format, time_t when);

}  // namespace dumpscope
