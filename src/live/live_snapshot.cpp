#include "live/live_snapshot.h"

#include <ctime>

#include "common/version.h"
#include "live/fd_listing.h"
#include "live/live_memory_source.h"
#include "live/maps_parser.h"
#include "live/module_discovery.h"
#include "live/proc_files.h"
#include "live/process_info.h"
#include "live/system_info.h"
#include "live/thread_info.h"

namespace dumpscope {

namespace {

Error exited_error(int32_t pid) {
    return Error{"process " + std::to_string(pid) + " exited during the dump"};
}

Status read_mappings(int32_t pid, Snapshot& snapshot) {
    auto mappings = parse_maps(snapshot.process.maps);
    if (!mappings) return mappings.error();
    snapshot.mappings = std::move(mappings).value();
    // smaps walks page tables (slower than maps) but is the only source of VmFlags.
    auto smaps = read_required_proc_file(pid, "smaps");
    if (smaps) {
        apply_smaps_vmflags(*smaps, snapshot.mappings);
    } else {
        snapshot.capture.notes.push_back("no VmFlags: " + smaps.error().message);
    }
    return Status::success();
}

Status read_threads(const ProcessFreezer& frozen, Snapshot& snapshot) {
    const auto& tids = frozen.tids();
    const auto& states = frozen.states_before();
    for (size_t i = 0; i < tids.size(); ++i) {
        auto thread = read_stopped_thread(frozen.pid(), tids[i], states[i], snapshot);
        if (!thread) return thread.error();
        if (!thread->has_value()) {
            snapshot.capture.notes.push_back("thread " + std::to_string(tids[i]) +
                                             " exited during the dump");
            continue;
        }
        snapshot.threads.push_back(std::move(**thread));
    }
    if (snapshot.threads.empty()) return exited_error(frozen.pid());
    return Status::success();
}

}  // namespace

Result<Snapshot> snapshot_live_process(const ProcessFreezer& frozen) {
    const int32_t pid = frozen.pid();
    if (!frozen.frozen()) {
        return Error{"cannot snapshot process " + std::to_string(pid) + ": it is not frozen"};
    }
    Snapshot snapshot;
    snapshot.capture.tool_version = kToolVersion;
    snapshot.capture.method = "ptrace";
    snapshot.capture.capture_time_unix = static_cast<uint64_t>(std::time(nullptr));

    auto system = read_system_info();
    if (!system) return system.error();
    snapshot.system = std::move(system).value();

    auto process = read_process_info(pid, snapshot.system.boot_time_unix, snapshot.capture.notes);
    if (!process) return process.error();
    snapshot.process = std::move(process).value();
    DS_TRY(read_mappings(pid, snapshot));

    auto memory = LiveMemorySource::open(pid);
    if (!memory) {
        return Error{"cannot read memory of process " + std::to_string(pid) + ": " +
                     memory.error().message};
    }
    snapshot.memory = *memory;

    DS_TRY(read_threads(frozen, snapshot));
    snapshot.modules = discover_modules(snapshot.mappings, **memory, snapshot.process.exe, pid);

    auto fds = list_fds(pid);
    if (fds) {
        snapshot.fds = std::move(fds).value();
    } else {
        snapshot.capture.notes.push_back("no file descriptors: " + fds.error().message);
    }
    snapshot.capture.pause_ms = frozen.paused_ms();
    return snapshot;
}

}  // namespace dumpscope
