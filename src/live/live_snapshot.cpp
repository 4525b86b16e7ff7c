#include "live/live_snapshot.h"

#include <cctype>
#include <ctime>
#include <string_view>

#include "common/version.h"
#include "live/fd_listing.h"
#include "live/live_memory_source.h"
#include "live/module_discovery.h"
#include "live/proc_files.h"
#include "live/process_info.h"
#include "live/system_info.h"
#include "live/thread_info.h"
#include "procfs/maps_parser.h"

namespace dumpscope {

namespace {

Error exited_error(int32_t pid) {
    return Error{"process " + std::to_string(pid) + " exited during the dump"};
}

// True when `smaps` lists exactly these mappings (same starts and ends, in order).
bool smaps_lists(std::string_view smaps, const std::vector<Mapping>& mappings) {
    size_t index = 0;
    while (!smaps.empty()) {
        const size_t nl = smaps.find('\n');
        const std::string_view line = smaps.substr(0, nl);
        smaps.remove_prefix(nl == std::string_view::npos ? smaps.size() : nl + 1);
        // Mapping lines start with a lowercase hex address, field lines with a capital.
        if (line.empty() || !std::isxdigit(static_cast<unsigned char>(line[0])) ||
            std::isupper(static_cast<unsigned char>(line[0]))) {
            continue;
        }
        auto m = parse_maps_line(line);
        if (!m || index >= mappings.size() || mappings[index].start != m->start ||
            mappings[index].end != m->end) {
            return false;
        }
        ++index;
    }
    return index == mappings.size();
}

Status read_mappings(int32_t pid, Snapshot& snapshot, const std::string* smaps_before) {
    auto mappings = parse_maps(snapshot.process.maps);
    if (!mappings) return mappings.error();
    snapshot.mappings = std::move(mappings).value();
    if (smaps_before != nullptr && smaps_lists(*smaps_before, snapshot.mappings)) {
        apply_smaps_vmflags(*smaps_before, snapshot.mappings);
        return Status::success();
    }
    // smaps walks page tables (slower than maps) but is the only source of VmFlags.
    auto smaps = read_required_proc_file(pid, "smaps");
    if (smaps) {
        apply_smaps_vmflags(*smaps, snapshot.mappings);
    } else {
        snapshot.capture.notes.push_back("no VmFlags: " + smaps.error().message);
    }
    return Status::success();
}

Status read_threads(const StoppedThreads& frozen, Snapshot& snapshot) {
    const auto& tids = frozen.tids;
    const auto& states = frozen.states_before;
    for (size_t i = 0; i < tids.size(); ++i) {
        auto thread = read_stopped_thread(frozen.pid, tids[i], states[i], snapshot);
        if (!thread) return thread.error();
        if (!thread->has_value()) {
            snapshot.capture.notes.push_back("thread " + std::to_string(tids[i]) +
                                             " exited during the dump");
            continue;
        }
        snapshot.threads.push_back(std::move(**thread));
    }
    if (snapshot.threads.empty()) return exited_error(frozen.pid);
    return Status::success();
}

}  // namespace

Result<Snapshot> snapshot_live_process(const ProcessFreezer& frozen,
                                       const OutsideThePause& outside) {
    if (!frozen.frozen()) {
        return Error{"cannot snapshot process " + std::to_string(frozen.pid()) +
                     ": it is not frozen"};
    }
    StoppedThreads stopped{frozen.pid(), frozen.tids(), frozen.states_before(), 0, outside};
    auto snapshot = snapshot_stopped_threads(stopped);
    if (snapshot.ok()) snapshot->capture.pause_ms = frozen.paused_ms();
    return snapshot;
}

Result<Snapshot> snapshot_stopped_threads(const StoppedThreads& stopped) {
    const int32_t pid = stopped.pid;
    Snapshot snapshot;
    snapshot.capture.tool_version = kToolVersion;
    snapshot.capture.method = "ptrace";
    snapshot.capture.capture_time_unix = static_cast<uint64_t>(std::time(nullptr));

    if (stopped.outside.system_before != nullptr) {
        snapshot.system = *stopped.outside.system_before;
    } else {
        auto system = read_system_info();
        if (!system) return system.error();
        snapshot.system = std::move(system).value();
    }

    auto process = read_process_info(pid, snapshot.system.boot_time_unix, snapshot.capture.notes);
    if (!process) return process.error();
    snapshot.process = std::move(process).value();
    DS_TRY(read_mappings(pid, snapshot, stopped.outside.smaps_before));

    auto memory = LiveMemorySource::open(pid);
    if (!memory) {
        return Error{"cannot read memory of process " + std::to_string(pid) + ": " +
                     memory.error().message};
    }
    snapshot.memory = *memory;

    DS_TRY(read_threads(stopped, snapshot));
    if (!stopped.outside.modules_and_fds_later) read_modules_and_fds(pid, snapshot);
    snapshot.capture.pause_ms = stopped.paused_ms;
    return snapshot;
}

void read_modules_and_fds(int32_t pid, Snapshot& snapshot) {
    if (snapshot.memory) {
        snapshot.modules =
            discover_modules(snapshot.mappings, *snapshot.memory, snapshot.process.exe, pid);
    }
    auto fds = list_fds(pid);
    if (fds) {
        snapshot.fds = std::move(fds).value();
    } else {
        snapshot.capture.notes.push_back("no file descriptors: " + fds.error().message);
    }
}

}  // namespace dumpscope
