#include "minidump/minidump_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "arch/arch.h"
#include "minidump/minidump_decoders.h"
#include "minidump/minidump_file.h"
#include "minidump/minidump_format.h"
#include "minidump/minidump_reader_parts.h"
#include "minidump/utf16.h"
#include "procfs/cmdline.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"
#include "snapshot/dump_completion.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope {

namespace {

using minidump::MinidumpFile;
using minidump::StreamType;

constexpr uint64_t kNanosecondsPerSecond = 1000000000ull;
constexpr uint32_t kDumpRequested = 0xffffffff;  // exception code of "a dump was requested"

std::string text_of(std::optional<std::span<const uint8_t>> bytes) {
    if (!bytes) return {};
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

// Breakpad and dumpscope write "sysname release version machine"; the version has spaces.
void split_csd(const std::string& csd, SystemInfo& system) {
    const size_t first = csd.find(' ');
    if (first == std::string::npos) {
        system.sysname = csd;
        return;
    }
    system.sysname = csd.substr(0, first);
    const size_t second = csd.find(' ', first + 1);
    const size_t last = csd.rfind(' ');
    if (second == std::string::npos) {
        system.release = csd.substr(first + 1);
        return;
    }
    system.release = csd.substr(first + 1, second - first - 1);
    if (last > second) system.version = csd.substr(second + 1, last - second - 1);
    system.machine = csd.substr(last + 1);
}

// The number of "processor : N" lines of a /proc/cpuinfo text.
uint32_t processors_listed(std::string_view cpuinfo) {
    uint32_t count = 0;
    for (size_t at = 0; at < cpuinfo.size();) {
        const size_t end = std::min(cpuinfo.find('\n', at), cpuinfo.size());
        const std::string_view line = cpuinfo.substr(at, end - at);
        if (line.rfind("processor", 0) == 0 && line.find(':') != std::string_view::npos) ++count;
        at = end + 1;
    }
    return count;
}

Status read_system(const MinidumpFile& file, Snapshot& s, const arch::ArchOps*& arch) {
    s.system.cpuinfo = text_of(file.stream(StreamType::LinuxCpuInfo));
    s.system.os_release = text_of(file.stream(StreamType::LinuxLsbRelease));
    auto decoded = minidump::decode_system_info(file);
    if (!decoded.ok()) return decoded.error();
    if (!decoded->has_value()) return {};
    const minidump::SystemInfo& info = (*decoded)->info;
    arch = arch::ops_for_minidump_processor(info.processor_architecture);
    if (arch == nullptr) {
        return Error{fmt::format("processor architecture {:#x} is not supported (only amd64)",
                                 info.processor_architecture)};
    }
    if (!(*decoded)->csd.empty()) split_csd((*decoded)->csd, s.system);
    if (s.system.sysname.empty() && info.platform_id == minidump::kPlatformLinux) {
        s.system.sysname = "Linux";
    }
    if (s.system.machine.empty()) s.system.machine = "x86_64";
    // Breakpad's cpuinfo reader stops at lines longer than 512 bytes (today's "flags" lines)
    // and records 1 processor: the cpuinfo text it also keeps knows better.
    s.system.cpu_count =
        std::max<uint32_t>(info.number_of_processors, processors_listed(s.system.cpuinfo));
    s.system.cpu_family = info.processor_level;
    s.system.cpu_model = info.processor_revision >> 8;
    s.system.cpu_stepping = info.processor_revision & 0xff;
    char vendor[sizeof(info.cpu.vendor_id) + 1] = {};
    std::memcpy(vendor, info.cpu.vendor_id, sizeof(info.cpu.vendor_id));
    const std::string_view name(vendor);
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
        s.system.cpu_vendor = name;  // lldb leaves it uninitialised
    }
    return {};
}

void read_process(const MinidumpFile& file, Snapshot& s) {
    ProcessInfo& p = s.process;
    if (const auto misc = minidump::decode_misc_info(file)) {
        const minidump::MiscInfo& info = misc->info;
        if (info.flags1 & minidump::kMiscInfoProcessId)
            p.pid = static_cast<int32_t>(info.process_id);
        if ((info.flags1 & minidump::kMiscInfoProcessTimes) && misc->size >= sizeof(info)) {
            p.start_time_unix_ns = uint64_t{info.process_create_time} * kNanosecondsPerSecond;
            p.user_time_ns = uint64_t{info.process_user_time} * kNanosecondsPerSecond;
            p.kernel_time_ns = uint64_t{info.process_kernel_time} * kNanosecondsPerSecond;
        }
    }
    p.status = text_of(file.stream(StreamType::LinuxProcStatus));
    p.cmdline = text_of(file.stream(StreamType::LinuxCmdLine));
    p.environ = text_of(file.stream(StreamType::LinuxEnviron));
    p.maps = text_of(file.stream(StreamType::LinuxMaps));
    p.stat = text_of(file.stream(StreamType::LinuxProcStat));
    if (const auto auxv = file.stream(StreamType::LinuxAuxv))
        p.auxv.assign(auxv->begin(), auxv->end());
    p.argv = split_nul(p.cmdline);
    if (p.pid == 0) p.pid = static_cast<int32_t>(status_number(p.status, "Pid").value_or(0));
    p.ppid = static_cast<int32_t>(status_number(p.status, "PPid").value_or(0));
    p.uid = static_cast<uint32_t>(status_number(p.status, "Uid").value_or(0));
    p.gid = static_cast<uint32_t>(status_number(p.status, "Gid").value_or(0));
    p.name = status_field(p.status, "Name").value_or("");
    if (auto stat = parse_stat(p.stat); stat.ok()) {
        p.arg_start = stat->arg_start;
        p.arg_end = stat->arg_end;
        p.env_start = stat->env_start;
        p.env_end = stat->env_end;
        if (p.ppid == 0) p.ppid = stat->ppid;
        if (p.name.empty()) p.name = stat->comm;
    }
}

Status read_exception(const MinidumpFile& file, const arch::ArchOps& arch, Snapshot& s,
                      const std::map<int32_t, arch::MinidumpRegisters>& thread_registers) {
    auto decoded = minidump::decode_exception(file);
    if (!decoded.ok()) return decoded.error();
    if (!decoded->has_value()) return {};
    const minidump::ExceptionStream& exception = (*decoded)->stream;
    const minidump::ExceptionRecord& record = exception.exception_record;
    if (record.exception_code == kDumpRequested) return {};
    ExceptionInfo info;
    info.tid = static_cast<int32_t>(exception.thread_id);
    info.signal.signo = static_cast<int32_t>(record.exception_code);
    info.signal.code = static_cast<int32_t>(record.exception_flags);
    info.signal.fault_address = record.exception_address;
    const auto thread = std::find_if(s.threads.begin(), s.threads.end(),
                                     [&](const Thread& t) { return t.tid == info.tid; });
    if (!(*decoded)->context.empty()) {
        const std::span<const uint8_t> context = (*decoded)->context;
        // The faulting thread's Teb and base registers; the system call is the thread's at the
        // capture, not at the fault, so it is left out.
        arch::MinidumpRegisters parts;
        if (auto known = thread_registers.find(info.tid); known != thread_registers.end()) {
            parts = known->second;
        }
        parts.has_syscall = false;
        parts.context.assign(context.begin(), context.end());
        auto regs = arch.from_minidump(parts, "the context of the exception");
        if (!regs.ok()) return regs.error();
        info.context = std::move(*regs);
    } else if (thread != s.threads.end()) {
        info.context = thread->regs;
    }
    s.exception = std::move(info);
    return {};
}

Status read_capture(const MinidumpFile& file, Snapshot& s) {
    auto record = minidump::decode_capture(file);
    if (!record.ok()) return record.error();
    if (record->has_value()) s.capture = std::move(**record);
    return {};
}

Status read_all(const std::string& path, const std::shared_ptr<MinidumpFile>& file, Snapshot& s) {
    const arch::ArchOps* arch = &arch::ops_or_first(CpuContext{});  // no SystemInfo: amd64
    DS_TRY(read_system(*file, s, arch));
    read_process(*file, s);
    Truncation truncation = file->truncation();
    auto listed = minidump::decode_memory_lists(*file, &truncation);
    if (!listed.ok()) return listed.error();
    std::vector<DumpMemoryRange> ranges = std::move(*listed);
    if (truncation.truncated()) s.warnings.push_back(describe_truncation(path, truncation));
    std::vector<DumpMemoryRange> stacks;
    std::map<int32_t, arch::MinidumpRegisters> thread_registers;
    DS_TRY(minidump::read_threads(*file, *arch, s, stacks, thread_registers));
    // ThreadNameList holds UTF-16: a name whose bytes are not UTF-8 lost them. The status
    // stream's Name (the main thread's comm) has the main thread's bytes.
    for (Thread& t : s.threads) {
        if (t.tid == s.process.pid && t.name != s.process.name &&
            minidump::utf16le_to_utf8(minidump::utf8_to_utf16le(s.process.name)) == t.name) {
            t.name = s.process.name;
        }
    }
    // Stacks that only the thread list holds (Breakpad-style writers), unless the memory list
    // already covers any of their bytes.
    for (const DumpMemoryRange& stack : stacks) {
        const bool covered = std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) {
            return r.address < stack.end() && stack.address < r.end();
        });
        if (!covered) ranges.push_back(stack);
    }
    auto memory = RangeMemorySource::create(std::move(ranges), file,
                                            RangeMemorySource::Backing::kReadOnlyFileMapping,
                                            &file->mapping());
    if (!memory.ok()) return memory.error();
    s.memory = *memory;
    DS_TRY(minidump::read_modules(*file, s));
    DS_TRY(minidump::read_mappings(*file, s));
    DS_TRY(minidump::read_handles(*file, s));
    DS_TRY(read_exception(*file, *arch, s, thread_registers));
    DS_TRY(read_capture(*file, s));
    if (s.capture.capture_time_unix == 0)
        s.capture.capture_time_unix = file->header().time_date_stamp;
    return {};
}

}  // namespace

Result<Snapshot> read_minidump(const std::string& path) {
    auto opened = MinidumpFile::open(path);
    if (!opened.ok()) return opened.error();
    auto file = std::make_shared<MinidumpFile>(std::move(*opened));
    Snapshot s;
    if (Status status = read_all(path, file, s); !status.ok()) {
        return Error{path + ": " + status.error().message};
    }
    complete_dump_snapshot(s);
    return s;
}

}  // namespace dumpscope
