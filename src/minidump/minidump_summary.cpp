#include "minidump/minidump_summary.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

#include "compress/dump_bytes.h"
#include "minidump/annotations_stream.h"
#include "minidump/minidump_decoders.h"
#include "minidump/minidump_file.h"
#include "minidump/minidump_format.h"
#include "procfs/status_parser.h"
#include "snapshot/capture_record_json.h"

namespace dumpscope {

namespace {

using minidump::MinidumpFile;
using minidump::StreamType;

std::string_view text_of(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Status summarize_system(const MinidumpFile& file, DumpSummary& summary) {
    auto decoded = minidump::decode_system_info(file);
    if (!decoded.ok()) return decoded.error();
    if (!decoded->has_value()) return {};
    const minidump::SystemInfo& info = (*decoded)->info;
    const std::string& csd = (*decoded)->csd;
    const bool unix_like = info.platform_id == minidump::kPlatformLinux ||
                           info.platform_id == minidump::kPlatformAndroid;
    if (unix_like) {
        // Breakpad and dumpscope put "sysname release version machine" in the CSD string; the
        // version numbers mean nothing on Linux (lldb leaves them uninitialised).
        summary.os = csd.empty() ? minidump::platform_name(info.platform_id) : csd;
    } else {
        summary.os = fmt::format("{} {}.{}.{}", minidump::platform_name(info.platform_id),
                                 info.major_version, info.minor_version, info.build_number);
        if (!csd.empty()) summary.os += " " + csd;
    }
    summary.cpu =
        fmt::format("{}, {} CPU{}", minidump::architecture_name(info.processor_architecture),
                    info.number_of_processors, info.number_of_processors == 1 ? "" : "s");
    if (info.processor_architecture == minidump::kArchX86 ||
        info.processor_architecture == minidump::kArchAmd64) {
        char vendor[sizeof(info.cpu.vendor_id) + 1] = {};
        std::memcpy(vendor, info.cpu.vendor_id, sizeof(info.cpu.vendor_id));
        const std::string_view name(vendor);
        const bool printable = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isprint(static_cast<unsigned char>(c));
        });
        if (printable) summary.cpu += ", " + std::string(name);
    }
    return {};
}

void summarize_process(const MinidumpFile& file, DumpSummary& summary) {
    if (const auto misc = minidump::decode_misc_info(file)) {
        if (misc->info.flags1 & minidump::kMiscInfoProcessId) {
            summary.pid = static_cast<int32_t>(misc->info.process_id);
        }
    }
    if (const auto status = file.stream(StreamType::LinuxProcStatus)) {
        const std::string_view text = text_of(*status);
        if (summary.pid == 0) {
            if (auto pid = status_field(text, "Pid")) summary.pid = std::atoi(pid->c_str());
        }
        if (auto name = status_field(text, "Name")) summary.process_name = *name;
    }
    if (const auto cmdline = file.stream(StreamType::LinuxCmdLine)) {
        std::string command(text_of(*cmdline));
        while (!command.empty() && command.back() == '\0') command.pop_back();
        std::replace(command.begin(), command.end(), '\0', ' ');
        summary.command_line = command;
    }
}

Status summarize_threads(const MinidumpFile& file, DumpSummary& summary) {
    auto threads = minidump::decode_threads(file);
    if (!threads.ok()) return threads.error();
    summary.thread_count = threads->size();
    for (const minidump::DecodedThread& thread : *threads) {
        const uint32_t tid = thread.entry.thread_id;
        summary.thread_names.push_back(
            thread.name.empty() ? fmt::format("{}", tid) : fmt::format("{} {}", tid, thread.name));
        if (summary.process_name.empty() && summary.pid != 0 &&
            tid == static_cast<uint32_t>(summary.pid)) {
            summary.process_name = thread.name;  // the main thread's comm is the process name
        }
    }
    return {};
}

Status summarize_modules(const MinidumpFile& file, DumpSummary& summary) {
    auto modules = minidump::decode_modules(file);
    if (!modules.ok()) return modules.error();
    summary.module_count = modules->size();
    for (const minidump::DecodedModule& module : *modules)
        summary.module_paths.push_back(module.name);
    return {};
}

Status summarize_memory(const std::string& path, const MinidumpFile& file, DumpSummary& summary) {
    Truncation truncation = file.truncation();
    auto ranges = minidump::decode_memory_lists(file, &truncation);
    if (!ranges.ok()) return ranges.error();
    if (truncation.truncated()) summary.warnings.push_back(describe_truncation(path, truncation));
    for (const DumpMemoryRange& range : *ranges) {
        summary.memory.push_back(MemoryRange{range.address, range.bytes.size()});
        summary.memory_bytes += range.bytes.size();
    }
    return {};
}

Status summarize_exception(const MinidumpFile& file, DumpSummary& summary) {
    auto decoded = minidump::decode_exception(file);
    if (!decoded.ok()) return decoded.error();
    if (!decoded->has_value()) return {};
    const minidump::ExceptionStream& exception = (*decoded)->stream;
    SignalInfo signal;
    signal.signo = static_cast<int32_t>(exception.exception_record.exception_code);
    signal.code = static_cast<int32_t>(exception.exception_record.exception_flags);
    signal.fault_address = exception.exception_record.exception_address;
    summary.exception = signal;
    summary.exception_tid = static_cast<int32_t>(exception.thread_id);
    return {};
}

Status summarize_capture(const MinidumpFile& file, DumpSummary& summary) {
    auto record = minidump::decode_capture(file);
    if (!record.ok()) return record.error();
    if (record->has_value()) summary.capture = std::move(**record);
    return {};
}

// The crash handler's annotations; a malformed stream is a warning, not a failure.
void summarize_annotations(const MinidumpFile& file, DumpSummary& summary) {
    auto stream = file.stream(minidump::StreamType::DumpscopeAnnotations);
    if (!stream) return;
    auto annotations = decode_annotations_stream(*stream);
    if (!annotations.ok()) {
        summary.warnings.push_back(annotations.error().message);
        return;
    }
    summary.annotations = std::move(*annotations);
}

}  // namespace

bool looks_like_minidump(const std::string& path) {
    auto start = compress::read_dump_prefix(path, sizeof(uint32_t));
    if (!start.ok() || start->size() != sizeof(uint32_t)) return false;
    uint32_t signature = 0;
    std::memcpy(&signature, start->data(), sizeof signature);
    return signature == minidump::kMinidumpSignature;
}

Result<DumpSummary> summarize_minidump(const std::string& path) {
    auto file = MinidumpFile::open(path);
    if (!file.ok()) return file.error();
    DumpSummary summary;
    summary.format = "minidump";
    summary.file_size = file->size();
    summary.disk_usage = file->disk_usage();
    for (const minidump::Directory& entry : file->directory()) {
        summary.entries.push_back({entry.stream_type, minidump::stream_type_name(entry.stream_type),
                                   entry.location.rva, entry.location.data_size});
    }
    Status status = summarize_system(*file, summary);
    if (status.ok()) summarize_process(*file, summary);
    if (status.ok()) status = summarize_threads(*file, summary);
    if (status.ok()) status = summarize_modules(*file, summary);
    if (status.ok()) status = summarize_memory(path, *file, summary);
    if (status.ok()) status = summarize_exception(*file, summary);
    if (status.ok()) status = summarize_capture(*file, summary);
    if (status.ok()) summarize_annotations(*file, summary);
    if (!status.ok()) return Error{path + ": " + status.error().message};
    return summary;
}

}  // namespace dumpscope
