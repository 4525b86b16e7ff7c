// vertarget / target: system, kernel, CPU, process id, command line, dump time and uptimes.
#include <fmt/format.h>

#include <ctime>

#include "analysis/command.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

std::string utc(uint64_t unix_seconds) {
    const time_t t = static_cast<time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

std::string duration(uint64_t seconds) {
    return fmt::format("{} days {}:{:02}:{:02}", seconds / 86400, seconds / 3600 % 24,
                       seconds / 60 % 60, seconds % 60);
}

nlohmann::json printable_argv(const std::vector<std::string>& argv) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& arg : argv) out.push_back(printable_bytes(arg));
    return out;
}

std::string command_line(const ProcessInfo& p) {
    std::string line;
    for (const std::string& arg : p.argv) {
        if (!line.empty()) line += ' ';
        line += printable_bytes(arg);
    }
    return line;
}

}  // namespace

Result<CommandOutput> command_target(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{"vertarget takes no arguments"};
    const Snapshot& s = dump.snapshot();
    const SystemInfo& sys = s.system;
    const ProcessInfo& p = s.process;
    const CaptureRecord& c = s.capture;
    CommandOutput out;
    std::string kernel = sys.sysname.empty() ? "Linux" : sys.sysname;
    for (const std::string* part : {&sys.release, &sys.version}) {
        if (!part->empty()) kernel += " " + *part;
    }
    if (sys.release.empty()) kernel += " (the dump does not record the kernel version)";
    out.text += fmt::format("{} ({})\n", kernel, sys.machine.empty() ? "x86_64" : sys.machine);
    if (!sys.nodename.empty()) out.text += "Machine name: " + sys.nodename + "\n";
    std::string cpu = sys.cpu_count != 0 ? fmt::format("{} processor{}", sys.cpu_count,
                                                       sys.cpu_count == 1 ? "" : "s")
                                         : std::string("processors: unknown");
    if (!sys.cpu_vendor.empty()) cpu += ", " + sys.cpu_vendor;
    if (sys.cpu_family != 0) {
        cpu += fmt::format(" family {} model {} stepping {}", sys.cpu_family, sys.cpu_model,
                           sys.cpu_stepping);
    }
    out.text += "CPU: " + cpu + "\n";
    out.text += fmt::format("Process: {} {} (parent {}, uid {})\n", p.pid, printable_bytes(p.name),
                            p.ppid, p.uid);
    if (!p.exe.empty()) out.text += "Executable: " + printable_bytes(p.exe) + "\n";
    if (!p.argv.empty()) out.text += "Command line: " + command_line(p) + "\n";
    out.text += fmt::format("Dump: {} {}\n", dump.format(), printable_bytes(dump.path()));
    if (!c.tool_version.empty()) {
        out.text += fmt::format(
            "Written by: dumpscope {} ({}, type {}, trigger {}), target "
            "paused {:.1f} ms\n",
            c.tool_version, c.method, c.dump_type, c.trigger, c.pause_ms);
    }
    nlohmann::json j = {
        {"system",
         {{"sysname", sys.sysname},
          {"release", sys.release},
          {"version", sys.version},
          {"machine", sys.machine},
          {"nodename", sys.nodename},
          {"cpu_count", sys.cpu_count},
          {"cpu_vendor", sys.cpu_vendor},
          {"cpu_family", sys.cpu_family},
          {"cpu_model", sys.cpu_model},
          {"cpu_stepping", sys.cpu_stepping}}},
        {"process",
         {{"pid", p.pid},
          {"ppid", p.ppid},
          {"uid", p.uid},
          {"name", printable_bytes(p.name)},
          {"exe", printable_bytes(p.exe)},
          {"argv", printable_argv(p.argv)}}},
        {"dump", {{"path", printable_bytes(dump.path())}, {"format", dump.format()}}}};
    if (c.capture_time_unix != 0) {
        out.text += "Dump time: " + utc(c.capture_time_unix) + "\n";
        j["dump_time_unix"] = c.capture_time_unix;
        if (sys.boot_time_unix != 0 && c.capture_time_unix >= sys.boot_time_unix) {
            const uint64_t up = c.capture_time_unix - sys.boot_time_unix;
            out.text += "System uptime: " + duration(up) + "\n";
            j["system_uptime_seconds"] = up;
        }
        const uint64_t started = p.start_time_unix_ns / 1000000000;
        if (started != 0 && c.capture_time_unix >= started) {
            const uint64_t up = c.capture_time_unix - started;
            out.text += "Process uptime: " + duration(up) + "\n";
            j["process_uptime_seconds"] = up;
        }
    }
    if (p.user_time_ns != 0 || p.kernel_time_ns != 0) {
        out.text += fmt::format("Process times: user {:.3f}s kernel {:.3f}s\n",
                                static_cast<double>(p.user_time_ns) / 1e9,
                                static_cast<double>(p.kernel_time_ns) / 1e9);
        j["process"]["user_time_ns"] = p.user_time_ns;
        j["process"]["kernel_time_ns"] = p.kernel_time_ns;
    }
    out.json = j;
    return out;
}

}  // namespace dumpscope::analysis
