#include "capture/collect_job.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "capture/clone_attempt.h"
#include "common/version.h"
#include "elfcore/core_writer.h"
#include "live/live_snapshot.h"
#include "live/process_freezer.h"
#include "live/target_lookup.h"
#include "minidump/minidump_writer.h"
#include "output/dump_file.h"
#include "output/write_context.h"
#include "plan/dump_flags.h"

namespace dumpscope {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string process_comm(int32_t pid) {
    std::ifstream in(fmt::format("/proc/{}/comm", pid));
    std::string name;
    std::getline(in, name);
    for (char& c : name)
        if (c == '/' || c == ' ' || c == '\0') c = '_';
    return name.empty() ? "process" : name;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> output_path(const CollectRequest& request, int32_t pid) {
    const std::string name = default_dump_name(process_comm(pid), pid, request.trigger,
                                               request.format, ::time(nullptr)) +
                             (request.compress_level ? ".zst" : "");
    if (request.output.empty()) return name;
    if (is_directory(request.output)) {
        std::string dir = request.output;
        if (dir.back() != '/') dir += '/';
        return dir + name;
    }
    if (request.output.back() == '/') return Error{"no such directory: " + request.output};
    return request.output;
}

// Alive and not a zombie: a target killed while frozen stays a zombie until we detach.
bool process_exists(int32_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat;
    std::getline(in, stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
    const char state = stat[paren + 2];
    return state != 'Z' && state != 'X';
}

}  // namespace

std::string default_dump_name(const std::string& process_name, int32_t pid,
                              const std::string& trigger, DumpFormat format, time_t when) {
    std::tm tm{};
    ::localtime_r(&when, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
    const char* ext = format == DumpFormat::ElfCore ? "core" : "dmp";
    if (trigger.empty() || trigger == "manual")
        return fmt::format("{}_{}.{}.{}", process_name, stamp, pid, ext);
    return fmt::format("{}_{}_{}.{}.{}", process_name, trigger, stamp, pid, ext);
}

Result<std::string> choose_output_path(const CollectRequest& request, int32_t pid) {
    return output_path(request, pid);
}

Result<DumpFile> open_output(const CollectRequest& request, int32_t pid) {
    if (request.output_fd >= 0) {
        return DumpFile::adopt_descriptor(request.output_fd,
                                          fmt::format("descriptor {}", request.output_fd));
    }
    auto path = output_path(request, pid);
    if (!path.ok()) return path.error();
    return DumpFile::create(*path, request.overwrite, request.compress_level);
}

Result<CollectResult> write_snapshot_dump(const Snapshot& snapshot, const CollectRequest& request,
                                          DumpFile& file, const ReleaseTarget& release_target) {
    const auto started = Clock::now();
    auto log = [&](const std::string& message) {
        if (request.log) request.log(message);
    };
    const int32_t pid = snapshot.process.pid;

    auto content = plan_dump(snapshot, request.plan);
    if (!content.ok()) return content.error();
    log(fmt::format("plan '{}' ({}): {} threads, {} modules, {} memory ranges, {} bytes",
                    request.plan.type_name, dump_flags_to_string(request.plan.flags),
                    content->threads.size(), content->modules.size(), content->memory.size(),
                    content->memory_bytes()));

    CaptureRecord record = snapshot.capture;
    record.tool_version = kToolVersion;
    record.dump_type = request.plan.type_name;
    record.dump_flags = request.plan.flags;
    record.trigger = request.trigger;
    record.trigger_detail = request.trigger_detail;
    if (!request.keep_capture_time)
        record.capture_time_unix = static_cast<uint64_t>(::time(nullptr));

    bool released = false;
    bool source_vanished = false;
    WriteContext ctx;
    ctx.progress = request.progress;
    if (const auto& callbacks = request.plan.callbacks) {
        ctx.cancelled = [&callbacks] { return callbacks->check_cancel() == CancelAnswer::kCancel; };
    }
    // A compressed dump never makes the paused target wait for its compression.
    file.set_never_block(release_target.target_waits);
    ctx.target_memory_done = [&] {
        file.set_never_block(false);
        released = true;
        source_vanished = !release_target.memory_source_alive();
        release_target.release(record);
        record.write_ms = ms_since(started);
        log(fmt::format("target resumed; paused {:.1f} ms", record.pause_ms));
    };
    ctx.capture_record = [&](const WriteRecord& written) {
        merge_write_record(record, written);
        return record;
    };

    auto size = request.format == DumpFormat::ElfCore
                    ? write_elf_core(snapshot, *content, file, ctx)
                    : write_minidump(snapshot, *content, file, ctx);
    if (!released) release_target.release(record);  // the writer failed before the callback
    if (!size.ok()) return size.error();
    if (release_target.memory_failure) {
        if (std::string failure = release_target.memory_failure(); !failure.empty()) {
            return Error{failure};
        }
    }
    if (source_vanished || !release_target.memory_source_alive()) {
        if (!release_target.vanished_error.empty()) return Error{release_target.vanished_error};
        return Error{fmt::format("process {} exited during the dump; no dump written", pid)};
    }
    if (cancel_requested().load()) return Error{"interrupted by a signal; no dump written"};

    DS_TRY(file.commit(*size));
    if (file.compressed()) log(file.compression_summary());
    log("renamed to " + file.final_path());

    CollectResult result;
    result.path = file.final_path();
    result.pid = pid;
    result.file_size = *size;
    struct stat st {};
    if (::stat(result.path.c_str(), &st) == 0)
        result.disk_usage = static_cast<uint64_t>(st.st_blocks) * 512;
    result.memory_bytes = content->memory_bytes();
    result.threads = content->threads.size();
    result.modules = content->modules.size();
    result.pause_ms = record.pause_ms;
    result.method = record.method;
    return result;
}

Result<CollectResult> collect_dump(const CollectRequest& request) {
    const auto started = Clock::now();
    auto log = [&](const std::string& message) {
        if (request.log) request.log(fmt::format("[{:7.1f} ms] {}", ms_since(started), message));
    };
    CollectRequest logged = request;
    logged.log = log;

    auto pid = resolve_target(request.target);
    if (!pid.ok()) return pid.error();

    // The file first: an unwritable directory or an existing file must fail before the target
    // is touched.
    auto file = open_output(request, *pid);
    if (!file.ok()) return file.error();
    log("writing " + file->temp_path());

    auto clone = CloneAttempt::start(request, *pid, log);
    if (!clone.ok()) return clone.error();

    auto frozen =
        ProcessFreezer::freeze(*pid, ProcessFreezer::kDefaultStopTimeout, request.leave_running);
    if (!frozen.ok()) return frozen.error();
    log(fmt::format("froze {} thread(s) of process {}", frozen->tids().size(), *pid));

    if (cancel_requested().load()) return Error{"interrupted by a signal; no dump written"};
    auto snapshot = snapshot_live_process(*frozen, clone->outside_the_pause());
    if (!snapshot.ok()) return snapshot.error();
    log(fmt::format(
        "snapshot: {} threads, {} mappings{}", snapshot->threads.size(), snapshot->mappings.size(),
        snapshot->modules.empty() ? std::string()
                                  : fmt::format(", {} modules", snapshot->modules.size())));
    snapshot->capture.method = "ptrace";
    if (request.before_plan) DS_TRY(request.before_plan(*snapshot, logged.plan));

    ReleaseTarget release;
    const int32_t target_pid = *pid;
    release.memory_source_alive = [target_pid] { return process_exists(target_pid); };
    release.release = [&frozen](CaptureRecord& record) {
        frozen->thaw();
        record.pause_ms = frozen->paused_ms();
    };
    auto resume = [&frozen] {
        frozen->thaw();
        return frozen->paused_ms();
    };
    DS_TRY(clone->make(frozen->tids(), resume, *snapshot, release));
    auto result = write_snapshot_dump(*snapshot, logged, *file, release);
    frozen->thaw();  // on every path
    clone->finish();
    if (!result.ok()) return result.error();
    result->clone_fallback = clone->refusal();
    result->clone_warnings = clone->warnings();
    result->total_ms = ms_since(started);
    return result;
}

}  // namespace dumpscope
