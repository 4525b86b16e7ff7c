#include "minidump/minidump_summary.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "minidump/minidump_file.h"
#include "minidump/minidump_format.h"
#include "minidump/minidump_memory_lists.h"
#include "snapshot/capture_record_json.h"

namespace dumpscope {

namespace {

using minidump::list_entries;
using minidump::MinidumpFile;
using minidump::read_struct;
using minidump::StreamType;

std::string_view text_of(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The value of a "Key:\tvalue" line of /proc/PID/status, without surrounding blanks.
std::optional<std::string> status_field(std::string_view status, std::string_view key) {
    size_t pos = 0;
    while (pos < status.size()) {
        size_t end = status.find('\n', pos);
        if (end == std::string_view::npos) end = status.size();
        const std::string_view line = status.substr(pos, end - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':') {
            std::string_view value = line.substr(key.size() + 1);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
                value.remove_prefix(1);
            }
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
                value.remove_suffix(1);
            }
            return std::string(value);
        }
        pos = end + 1;
    }
    return std::nullopt;
}

std::string architecture_name(uint16_t architecture) {
    switch (architecture) {
        case minidump::kArchX86:
            return "x86";
        case minidump::kArchArm:
            return "arm";
        case minidump::kArchAmd64:
            return "amd64";
        case minidump::kArchArm64:
        case minidump::kArchBreakpadArm64:
            return "arm64";
        default:
            return fmt::format("architecture {:#x}", architecture);
    }
}

std::string platform_name(uint32_t platform) {
    switch (platform) {
        case minidump::kPlatformWin32NT:
            return "Windows NT";
        case minidump::kPlatformMacOS:
            return "macOS";
        case minidump::kPlatformIOS:
            return "iOS";
        case minidump::kPlatformLinux:
            return "Linux";
        case minidump::kPlatformSolaris:
            return "Solaris";
        case minidump::kPlatformAndroid:
            return "Android";
        default:
            return fmt::format("platform {:#x}", platform);
    }
}

Status summarize_system(const MinidumpFile& file, DumpSummary& summary) {
    const auto stream = file.stream(StreamType::SystemInfo);
    if (!stream) return {};
    auto info = read_struct<minidump::SystemInfo>(*stream, 0, "SystemInfoStream");
    if (!info.ok()) return info.error();
    std::string csd;
    if (info->csd_version_rva != 0) {
        auto text = file.string_at(info->csd_version_rva, "the SystemInfo CSD string");
        if (!text.ok()) return text.error();
        csd = *text;
    }
    const bool unix_like = info->platform_id == minidump::kPlatformLinux ||
                           info->platform_id == minidump::kPlatformAndroid;
    if (unix_like) {
        // Breakpad and dumpscope put "sysname release version machine" in the CSD string; the
        // version numbers mean nothing on Linux (lldb leaves them uninitialised).
        summary.os = csd.empty() ? platform_name(info->platform_id) : csd;
    } else {
        summary.os = fmt::format("{} {}.{}.{}", platform_name(info->platform_id),
                                 info->major_version, info->minor_version, info->build_number);
        if (!csd.empty()) summary.os += " " + csd;
    }
    summary.cpu =
        fmt::format("{}, {} CPU{}", architecture_name(info->processor_architecture),
                    info->number_of_processors, info->number_of_processors == 1 ? "" : "s");
    if (info->processor_architecture == minidump::kArchX86 ||
        info->processor_architecture == minidump::kArchAmd64) {
        char vendor[sizeof(info->cpu.vendor_id) + 1] = {};
        std::memcpy(vendor, info->cpu.vendor_id, sizeof(info->cpu.vendor_id));
        const std::string_view name(vendor);
        const bool printable = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isprint(static_cast<unsigned char>(c));
        });
        if (printable) summary.cpu += ", " + std::string(name);
    }
    return {};
}

void summarize_process(const MinidumpFile& file, DumpSummary& summary) {
    if (const auto misc = file.stream(StreamType::MiscInfo)) {
        // Older writers use shorter MiscInfo; pid needs the first three fields.
        if (misc->size() >= 3 * sizeof(uint32_t)) {
            uint32_t flags = 0, pid = 0;
            std::memcpy(&flags, misc->data() + 4, sizeof(flags));
            std::memcpy(&pid, misc->data() + 8, sizeof(pid));
            if (flags & minidump::kMiscInfoProcessId) summary.pid = static_cast<int32_t>(pid);
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
    std::map<uint32_t, std::string> names;
    if (const auto stream = file.stream(StreamType::ThreadNameList)) {
        uint32_t count = 0;
        auto entries =
            list_entries(*stream, sizeof(minidump::ThreadName), "ThreadNameListStream", count);
        if (!entries.ok()) return entries.error();
        for (uint32_t i = 0; i < count; ++i) {
            auto entry = read_struct<minidump::ThreadName>(
                *entries, uint64_t{i} * sizeof(minidump::ThreadName), "ThreadNameListStream");
            if (!entry.ok()) return entry.error();
            auto name = file.string_at(entry->rva_of_thread_name,
                                       fmt::format("the name of thread {}", entry->thread_id));
            if (!name.ok()) return name.error();
            names.emplace(entry->thread_id, *name);
        }
    }
    const auto stream = file.stream(StreamType::ThreadList);
    if (!stream) return {};
    uint32_t count = 0;
    auto entries = list_entries(*stream, sizeof(minidump::Thread), "ThreadListStream", count);
    if (!entries.ok()) return entries.error();
    summary.thread_count = count;
    for (uint32_t i = 0; i < count; ++i) {
        auto thread = read_struct<minidump::Thread>(
            *entries, uint64_t{i} * sizeof(minidump::Thread), "ThreadListStream");
        if (!thread.ok()) return thread.error();
        const std::string what = fmt::format("the context of thread {}", thread->thread_id);
        DS_TRY(file.slice(thread->thread_context, what));
        DS_TRY(file.available(thread->stack.memory.rva, thread->stack.memory.data_size,
                              fmt::format("the stack of thread {}", thread->thread_id)));
        auto name = names.find(thread->thread_id);
        summary.thread_names.push_back(name == names.end()
                                           ? fmt::format("{}", thread->thread_id)
                                           : fmt::format("{} {}", thread->thread_id, name->second));
        if (summary.process_name.empty() && name != names.end() && summary.pid != 0 &&
            thread->thread_id == static_cast<uint32_t>(summary.pid)) {
            summary.process_name = name->second;  // the main thread's comm is the process name
        }
    }
    return {};
}

Status summarize_modules(const MinidumpFile& file, DumpSummary& summary) {
    const auto stream = file.stream(StreamType::ModuleList);
    if (!stream) return {};
    uint32_t count = 0;
    auto entries = list_entries(*stream, sizeof(minidump::Module), "ModuleListStream", count);
    if (!entries.ok()) return entries.error();
    summary.module_count = count;
    for (uint32_t i = 0; i < count; ++i) {
        auto module = read_struct<minidump::Module>(
            *entries, uint64_t{i} * sizeof(minidump::Module), "ModuleListStream");
        if (!module.ok()) return module.error();
        auto name =
            file.string_at(module->module_name_rva, fmt::format("the name of module {}", i));
        if (!name.ok()) return name.error();
        DS_TRY(file.slice(module->cv_record, fmt::format("the CodeView record of {}", *name)));
        summary.module_paths.push_back(*name);
    }
    return {};
}

Status summarize_memory(const std::string& path, const MinidumpFile& file, DumpSummary& summary) {
    std::vector<DumpMemoryRange> ranges;
    Truncation truncation = file.truncation();
    DS_TRY(read_memory_lists(file, ranges, &truncation));
    if (truncation.truncated()) summary.warnings.push_back(describe_truncation(path, truncation));
    for (const DumpMemoryRange& range : ranges) {
        summary.memory.push_back(MemoryRange{range.address, range.bytes.size()});
        summary.memory_bytes += range.bytes.size();
    }
    return {};
}

Status summarize_exception(const MinidumpFile& file, DumpSummary& summary) {
    const auto stream = file.stream(StreamType::Exception);
    if (!stream) return {};
    auto exception = read_struct<minidump::ExceptionStream>(*stream, 0, "ExceptionStream");
    if (!exception.ok()) return exception.error();
    DS_TRY(file.slice(exception->thread_context, "the context of the exception"));
    SignalInfo signal;
    signal.signo = static_cast<int32_t>(exception->exception_record.exception_code);
    signal.code = static_cast<int32_t>(exception->exception_record.exception_flags);
    signal.fault_address = exception->exception_record.exception_address;
    summary.exception = signal;
    summary.exception_tid = static_cast<int32_t>(exception->thread_id);
    return {};
}

Status summarize_capture(const MinidumpFile& file, DumpSummary& summary) {
    const auto stream = file.stream(StreamType::DumpscopeCapture);
    if (!stream) return {};
    auto record = capture_record_from_json(std::string(text_of(*stream)));
    if (!record.ok()) return Error{"DumpscopeCapture: " + record.error().message};
    summary.capture = std::move(record).value();
    return {};
}

}  // namespace

bool looks_like_minidump(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    uint32_t signature = 0;
    const ssize_t got = ::pread(fd, &signature, sizeof(signature), 0);
    ::close(fd);
    return got == static_cast<ssize_t>(sizeof(signature)) &&
           signature == minidump::kMinidumpSignature;
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
    if (!status.ok()) return Error{path + ": " + status.error().message};
    return summary;
}

}  // namespace dumpscope
