#include "monitor/crash_collect.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <vector>

#include "capture/collect_job.h"
#include "elfcore/core_reader.h"
#include "monitor/dump_quota.h"
#include "output/dump_file.h"
#include "plan/plan.h"
#include "procfs/signal_names.h"

namespace dumpscope {

namespace {

std::string safe_name(std::string name) {
    for (char& c : name)
        if (c == '/' || c == ' ' || c == '\0') c = '_';
    return name.empty() ? "process" : name;
}

std::optional<int> level_of(const CrashHandlerConfig& config) {
    if (config.compress_level == 0) return std::nullopt;
    return config.compress_level;
}

// Copies the kernel's core from fd into the file (compressed as it comes when the file is);
// zero pages become holes.
Result<uint64_t> copy_core(int fd, DumpFile& file) {
    std::vector<uint8_t> buffer(1 << 20);
    uint64_t offset = 0;
    uint8_t last_byte = 0;
    for (;;) {
        size_t filled = 0;
        while (filled < buffer.size()) {  // whole buffers keep the hole detection page-aligned
            const ssize_t n = ::read(fd, buffer.data() + filled, buffer.size() - filled);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("cannot read the core from standard input");
            if (n == 0) break;
            filled += static_cast<size_t>(n);
        }
        if (filled == 0) break;
        DS_TRY(file.write_sparse_at(offset, {buffer.data(), filled}));
        offset += filled;
        last_byte = buffer[filled - 1];
        if (filled < buffer.size()) break;
    }
    if (offset == 0) return Error{"the kernel sent an empty core"};
    // A hole at the end would leave the temporary short; complete() sets its size (and
    // finishes a compressed one): the reader needs it whole now.
    DS_TRY(file.write_at(offset - 1, {&last_byte, 1}));
    DS_TRY(file.complete(offset));
    return offset;
}

Status write_minidump(const CrashHandlerConfig& config, const CrashReport& report,
                      const std::string& core_path, const std::string& path) {
    auto snapshot = read_elf_core(core_path);
    if (!snapshot) return snapshot.error();
    if (!snapshot->exception && !snapshot->threads.empty() && report.signo != 0) {
        ExceptionInfo exception;  // the kernel writes the crashing thread first
        exception.tid = snapshot->threads.front().tid;
        exception.signal.signo = report.signo;
        exception.context = snapshot->threads.front().regs;
        snapshot->exception = exception;
    }
    if (snapshot->process.pid == 0) snapshot->process.pid = report.pid;
    if (snapshot->process.name.empty()) snapshot->process.name = report.comm;
    snapshot->capture.method = "core_pattern";
    CollectRequest request;
    request.format = DumpFormat::Minidump;
    auto plan = preset_options(config.dump_type);
    if (!plan) return plan.error();
    request.plan = *plan;
    request.trigger = "crash";
    request.trigger_detail =
        fmt::format("{}, core from the kernel (core_pattern)", signal_name(report.signo));
    auto file = DumpFile::create(path, false, level_of(config));
    if (!file) return file.error();
    ReleaseTarget nothing_to_release;
    nothing_to_release.release = [](CaptureRecord& record) { record.pause_ms = 0; };
    nothing_to_release.memory_source_alive = [] { return true; };
    nothing_to_release.target_waits = false;
    auto written = write_snapshot_dump(*snapshot, request, *file, nothing_to_release);
    if (!written) return written.error();
    return Status::success();
}

}  // namespace

Result<CrashCollectResult> collect_crash(const CrashHandlerConfig& config,
                                         const CrashReport& report, int core_fd) {
    DS_TRY(make_directories(config.output_dir));
    clean_stale_temporaries(config.output_dir);
    const std::string dir = config.output_dir + "/";
    const std::string name = safe_name(report.comm);
    const std::string ext = config.compress_level > 0 ? ".zst" : "";
    const std::string core_path =
        dir + default_dump_name(name, report.pid, "crash", DumpFormat::ElfCore, report.when) + ext;
    const std::string dump_path =
        dir + default_dump_name(name, report.pid, "crash", DumpFormat::Minidump, report.when) + ext;

    // A compressed core is compressed as it comes from the kernel; the conversion reads the
    // completed temporary in place (compressed or not).
    auto core = DumpFile::create(core_path, false, level_of(config));
    if (!core) return core.error();
    auto size = copy_core(core_fd, *core);
    if (!size) return size.error();

    CrashCollectResult result;
    result.core_bytes = *size;
    // The temporary is a complete core: convert from it, commit it only if it is wanted.
    auto converted = write_minidump(config, report, core->temp_path(), dump_path);
    if (converted) {
        result.minidump = dump_path;
    } else {
        result.conversion_error = converted.error().message;
    }
    if (config.keep_core || !converted) {
        DS_TRY(core->commit(*size));
        result.core = core_path;
    }

    std::vector<std::string> keep;
    for (const std::string& path : {result.minidump, result.core})
        if (!path.empty()) keep.push_back(path.substr(dir.size()));
    auto quota = enforce_dump_quota(config.output_dir, config.quota_mb << 20, keep);
    if (quota) result.removed = quota->removed;
    return result;
}

void log_crash_line(const CrashHandlerConfig& config, const std::string& line) {
    std::ofstream log(config.output_dir + "/crash-handler.log", std::ios::app);
    std::tm tm{};
    const time_t now = ::time(nullptr);
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    log << stamp << " " << line << "\n";
}

}  // namespace dumpscope
