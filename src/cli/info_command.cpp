#include "cli/info_command.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/printable_bytes.h"
#include "common/units.h"
#include "elfcore/core_summary.h"
#include "minidump/minidump_summary.h"
#include "plan/dump_flags.h"
#include "procfs/signal_names.h"
#include "readers/dump_reader.h"

namespace dumpscope {

namespace {

Result<DumpSummary> summarize(const std::string& path) {
    if (looks_like_minidump(path)) return summarize_minidump(path);
    if (looks_like_elf_core(path)) return summarize_elf_core(path);
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return errno_error("cannot open " + path);
    std::fclose(f);
    return Error{path + " is neither a minidump nor an ELF core file"};
}

nlohmann::json printable_list(const std::vector<std::string>& items) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& item : items) out.push_back(printable_bytes(item));
    return out;
}

nlohmann::json to_json(const DumpSummary& s) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : s.entries)
        entries.push_back(
            {{"type", e.type}, {"name", e.name}, {"offset", e.offset}, {"size", e.size}});
    nlohmann::json memory = nlohmann::json::array();
    for (const auto& r : s.memory) memory.push_back({{"start", r.start}, {"size", r.size}});
    nlohmann::json j = {
        {"format", s.format},
        {"file_size", s.file_size},
        {"disk_usage", s.disk_usage},
        {"entries", entries},
        {"os", s.os},
        {"cpu", s.cpu},
        {"pid", s.pid},
        {"process_name", printable_bytes(s.process_name)},
        {"command_line", printable_bytes(s.command_line)},
        {"thread_count", s.thread_count},
        {"threads", printable_list(s.thread_names)},
        {"module_count", s.module_count},
        {"modules", printable_list(s.module_paths)},
        {"memory_range_count", s.memory.size()},
        {"memory_bytes", s.memory_bytes},
        {"memory", memory},
        {"warnings", printable_list(s.warnings)},
    };
    if (s.capture) {
        const CaptureRecord& c = *s.capture;
        j["capture"] = {{"tool_version", c.tool_version},
                        {"dump_type", c.dump_type},
                        {"dump_flags", c.dump_flags},
                        {"dump_flag_names", dump_flags_to_string(c.dump_flags)},
                        {"trigger", c.trigger},
                        {"trigger_detail", c.trigger_detail},
                        {"method", c.method},
                        {"capture_time_unix", c.capture_time_unix},
                        {"pause_ms", c.pause_ms},
                        {"write_ms", c.write_ms},
                        {"notes", printable_list(c.notes)}};
    }
    if (!s.annotations.empty()) {
        nlohmann::json annotations = nlohmann::json::object();
        for (const auto& [key, value] : s.annotations)
            annotations[printable_bytes(key)] = printable_bytes(value);
        j["annotations"] = annotations;
    }
    if (s.exception) {
        j["exception"] = {{"tid", s.exception_tid},
                          {"signal", s.exception->signo},
                          {"signal_name", signal_name(s.exception->signo)},
                          {"code", s.exception->code},
                          {"code_name", si_code_name(s.exception->signo, s.exception->code)},
                          {"address", s.exception->fault_address}};
    }
    return j;
}

void print_text(const DumpSummary& s, bool all_ranges) {
    fmt::print("format:    {}\n", s.format);
    fmt::print("file:      {} ({} on disk)\n", human_bytes(s.file_size), human_bytes(s.disk_usage));
    if (!s.os.empty()) fmt::print("system:    {}\n", s.os);
    if (!s.cpu.empty()) fmt::print("cpu:       {}\n", s.cpu);
    fmt::print("process:   {} {}\n", s.pid, printable_bytes(s.process_name));
    if (!s.command_line.empty()) fmt::print("command:   {}\n", printable_bytes(s.command_line));
    fmt::print("threads:   {}\n", s.thread_count);
    for (const auto& t : s.thread_names) fmt::print("           {}\n", printable_bytes(t));
    fmt::print("modules:   {}\n", s.module_count);
    fmt::print("memory:    {} ranges, {}\n", s.memory.size(), human_bytes(s.memory_bytes));
    const size_t shown = all_ranges ? s.memory.size() : std::min<size_t>(s.memory.size(), 8);
    for (size_t i = 0; i < shown; ++i)
        fmt::print("           {:#018x}-{:#018x} {}\n", s.memory[i].start, s.memory[i].end(),
                   human_bytes(s.memory[i].size));
    if (shown < s.memory.size())
        fmt::print("           ... {} more (--all-ranges)\n", s.memory.size() - shown);
    if (s.exception) {
        // "exception: signal 11 (SIGSEGV) code 1 (SEGV_MAPERR) address 0x0 thread 1234"
        const std::string code = si_code_name(s.exception->signo, s.exception->code);
        fmt::print("exception: signal {} ({}) code {}{} address {:#x} thread {}\n",
                   s.exception->signo, signal_name(s.exception->signo), s.exception->code,
                   code.empty() ? "" : " (" + code + ")", s.exception->fault_address,
                   s.exception_tid);
    }
    if (s.capture) {
        const CaptureRecord& c = *s.capture;
        fmt::print("captured:  by dumpscope {} ({}), type {}, flags {:#x} {}\n", c.tool_version,
                   c.method, c.dump_type, c.dump_flags, dump_flags_to_string(c.dump_flags));
        fmt::print("           trigger {}{}{}, target paused {}, written in {}\n", c.trigger,
                   c.trigger_detail.empty() ? "" : ": ", c.trigger_detail,
                   human_duration_ms(c.pause_ms), human_duration_ms(c.write_ms));
        for (const auto& n : c.notes) fmt::print("           note: {}\n", printable_bytes(n));
    }
    for (size_t i = 0; i < s.annotations.size(); ++i) {
        fmt::print("{}{}={}\n", i == 0 ? "annotated: " : "           ",
                   printable_bytes(s.annotations[i].first),
                   printable_bytes(s.annotations[i].second));
    }
    fmt::print("{}:\n", s.format == "minidump" ? "streams" : "contents");
    for (const auto& e : s.entries)
        fmt::print("  {:#010x} {:<28} offset {:#x} size {}\n", e.type, e.name, e.offset, e.size);
}

// The modules and the system as the analysis commands see them (`modules` lists what the reader
// finds: the vdso too, not only the files of NT_FILE), so that info and modules agree.
void agree_with_reader(const std::string& path, DumpSummary& summary) {
    auto snapshot = read_dump_file(path);
    if (!snapshot.ok()) return;  // the summary alone says what it can
    summary.module_paths.clear();
    for (const Module& m : snapshot->modules) summary.module_paths.push_back(m.path);
    summary.module_count = summary.module_paths.size();
    const SystemInfo& system = snapshot->system;
    if (!system.release.empty()) {
        summary.os = fmt::format("{} {} {}", system.sysname.empty() ? "Linux" : system.sysname,
                                 system.release, system.machine);
    } else if (summary.format == "elf-core") {
        summary.os += " (the core records no kernel version)";
    }
}

}  // namespace

void InfoCommand::add_to(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("info", "Print what a dump file holds");
    cmd->add_option("DUMP", path_, "A minidump or an ELF core file")->required();
    cmd->add_flag("--json", json_, "Print JSON");
    cmd->add_flag("--all-ranges", all_ranges_, "List every memory range");
    cmd->callback([this] { run_requested_ = true; });
}

int InfoCommand::run() const {
    auto summary = summarize(path_);
    if (!summary.ok()) {
        fmt::print(stderr, "dumpscope info: {}\n", summary.error().message);
        return 1;
    }
    agree_with_reader(path_, *summary);
    for (const std::string& warning : summary->warnings) {
        fmt::print(stderr, "dumpscope info: warning: {}\n", warning);
    }
    if (json_) {
        fmt::print("{}\n",
                   to_json(*summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        print_text(*summary, all_ranges_);
    }
    return 0;
}

}  // namespace dumpscope
