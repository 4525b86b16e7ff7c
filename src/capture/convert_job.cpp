#include "capture/convert_job.h"

#include <fmt/format.h>

#include "common/paths.h"
#include "compress/seekable_writer.h"
#include "output/dump_file.h"
#include "readers/dump_reader.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<MemoryRange> ranges_of(const Snapshot& snapshot) {
    std::vector<MemoryRange> out;
    const auto* memory = dynamic_cast<const RangeMemorySource*>(snapshot.memory.get());
    if (memory == nullptr) return out;
    for (const DumpMemoryRange& r : memory->ranges()) out.push_back({r.address, r.bytes.size()});
    return out;
}

// A core from gcore or the kernel has the name, arguments and parent in NT_PRPSINFO but no /proc
// text, where a minidump keeps them (LinuxProcStatus, LinuxCmdLine): rebuild those two from what
// is known, and say so in the capture record.
void rebuild_process_text(Snapshot& snapshot) {
    ProcessInfo& p = snapshot.process;
    std::vector<std::string> rebuilt;
    if (p.cmdline.empty() && !p.argv.empty()) {
        for (const std::string& arg : p.argv) p.cmdline += arg + '\0';
        rebuilt.emplace_back("command line");
    }
    if (p.status.empty() && !p.name.empty()) {
        p.status = fmt::format("Name:\t{}\nPid:\t{}\nPPid:\t{}\n", p.name, p.pid, p.ppid);
        rebuilt.emplace_back("status (Name, Pid, PPid only)");
    }
    if (!rebuilt.empty())
        snapshot.capture.notes.push_back(
            fmt::format("{} rebuilt from the input's process note", fmt::join(rebuilt, " and ")));
}

}  // namespace

DumpFormat choose_convert_format(const std::string& output, const std::string& input_format) {
    std::string name = base_name(output);
    if (ends_with(name, ".zst")) name.resize(name.size() - 4);
    if (ends_with(name, ".dmp") || ends_with(name, ".mdmp")) return DumpFormat::Minidump;
    if (ends_with(name, ".core") || name == "core" || name.rfind("core.", 0) == 0) {
        return DumpFormat::ElfCore;
    }
    return input_format == "minidump" ? DumpFormat::ElfCore : DumpFormat::Minidump;
}

Result<ConvertResult> convert_dump(const ConvertRequest& request) {
    std::string input_format;
    auto snapshot = read_dump_file(request.input, &input_format);
    if (!snapshot.ok()) return snapshot.error();

    CollectRequest collect;
    collect.output = request.output;
    collect.format = request.format.value_or(choose_convert_format(request.output, input_format));
    collect.plan = request.plan;
    collect.plan.available_memory = ranges_of(*snapshot);
    collect.overwrite = request.overwrite;
    collect.trigger = snapshot->capture.trigger.empty() ? "manual" : snapshot->capture.trigger;
    collect.trigger_detail = snapshot->capture.trigger_detail;
    collect.keep_capture_time = true;  // the input's (0: unknown), never the conversion's
    rebuild_process_text(*snapshot);

    CaptureRecord& record = snapshot->capture;
    record.notes.push_back(
        fmt::format("converted from {} {}{}", input_format, request.input,
                    record.capture_time_unix != 0
                        ? fmt::format(" (captured at unix time {})", record.capture_time_unix)
                        : std::string(" (capture time unknown)")));
    if (record.method.empty()) record.method = "reader";
    for (const std::string& warning : snapshot->warnings) record.notes.push_back(warning);

    std::optional<int> level = request.compress_level;
    if (!level && ends_with(request.output, ".zst")) level = compress::kDefaultCompressionLevel;
    auto file = DumpFile::create(request.output, request.overwrite, level);
    if (!file.ok()) return file.error();
    ReleaseTarget nothing_to_release;
    nothing_to_release.release = [](CaptureRecord&) {};
    nothing_to_release.memory_source_alive = [] { return true; };
    nothing_to_release.target_waits = false;
    auto written = write_snapshot_dump(*snapshot, collect, *file, nothing_to_release);
    if (!written.ok()) return written.error();

    ConvertResult result;
    result.path = written->path;
    result.input_format = input_format;
    result.warnings = snapshot->warnings;
    result.format = collect.format;
    result.file_size = written->file_size;
    result.memory_bytes = written->memory_bytes;
    result.threads = written->threads;
    result.modules = written->modules;
    return result;
}

}  // namespace dumpscope
