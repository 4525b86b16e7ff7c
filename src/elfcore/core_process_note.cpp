#include "elfcore/core_process_note.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/printable_bytes.h"
#include "procfs/maps_parser.h"
#include "snapshot/json_numbers.h"

namespace dumpscope::elfcore {

namespace {

using nlohmann::json;

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
    std::string out;
    for (uint8_t b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

Result<std::vector<uint8_t>> bytes_from_hex(const std::string& text) {
    if (text.size() % 2 != 0) return Error{"odd-length hex string"};
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 2) {
        unsigned value = 0;
        for (size_t k = i; k < i + 2; ++k) {
            const char c = text[k];
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) return Error{"not a hex string: " + text.substr(0, 64)};
            value = value * 16 + static_cast<unsigned>(digit);
        }
        out.push_back(static_cast<uint8_t>(value));
    }
    return out;
}

json system_json(const SystemInfo& s, bool texts) {
    json j = {{"sysname", s.sysname},       {"nodename", s.nodename},
              {"release", s.release},       {"version", s.version},
              {"machine", s.machine},       {"cpu_count", s.cpu_count},
              {"cpu_vendor", s.cpu_vendor}, {"cpu_family", s.cpu_family},
              {"cpu_model", s.cpu_model},   {"cpu_stepping", s.cpu_stepping},
              {"page_size", s.page_size},   {"boot_time_unix", s.boot_time_unix}};
    if (texts) {
        j["cpuinfo"] = s.cpuinfo;
        j["os_release"] = s.os_release;
    }
    return j;
}

json process_json(const ProcessInfo& p, const DumpContent& content) {
    json j = {{"pid", p.pid},
              {"ppid", p.ppid},
              {"uid", p.uid},
              {"gid", p.gid},
              {"name", p.name},
              {"exe", p.exe},
              {"start_time_unix_ns", p.start_time_unix_ns},
              {"user_time_ns", p.user_time_ns},
              {"kernel_time_ns", p.kernel_time_ns},
              {"arg_start", p.arg_start},
              {"arg_end", p.arg_end},
              {"env_start", p.env_start},
              {"env_end", p.env_end}};
    if (content.optional_linux_streams) {
        j["cmdline"] = p.cmdline;
        j["status"] = p.status;
        j["maps"] = p.maps;
        j["stat"] = p.stat;
        if (!content.omit_environment) j["environ"] = p.environ;
    }
    return j;
}

json thread_json(const Thread& t) {
    return {{"tid", t.tid},
            {"name", t.name},
            {"state", std::string(1, t.state)},
            {"in_syscall", t.syscall.in_syscall},
            {"syscall", t.syscall.number},
            {"syscall_args", t.syscall.args},
            {"user_time_ns", t.user_time_ns},
            {"kernel_time_ns", t.kernel_time_ns},
            {"start_time_ns_since_boot", t.start_time_ns_since_boot},
            {"priority", t.priority},
            {"nice", t.nice},
            {"stack_start", t.stack_start},
            {"stack_end", t.stack_end}};
}

void read_system(const json& j, SystemInfo& s) {
    s.sysname = j.value("sysname", "");
    s.nodename = j.value("nodename", "");
    s.release = j.value("release", "");
    s.version = j.value("version", "");
    s.machine = j.value("machine", "");
    s.cpu_count = j.value("cpu_count", 0u);
    s.cpu_vendor = j.value("cpu_vendor", "");
    s.cpu_family = j.value("cpu_family", 0u);
    s.cpu_model = j.value("cpu_model", 0u);
    s.cpu_stepping = j.value("cpu_stepping", 0u);
    s.page_size = j.value("page_size", uint64_t{4096});
    s.boot_time_unix = j.value("boot_time_unix", uint64_t{0});
    s.cpuinfo = j.value("cpuinfo", "");
    s.os_release = j.value("os_release", "");
}

void read_process(const json& j, ProcessInfo& p) {
    p.pid = j.value("pid", 0);
    p.ppid = j.value("ppid", 0);
    p.uid = j.value("uid", 0u);
    p.gid = j.value("gid", 0u);
    p.name = j.value("name", "");
    p.exe = j.value("exe", "");
    p.start_time_unix_ns = j.value("start_time_unix_ns", uint64_t{0});
    p.user_time_ns = j.value("user_time_ns", uint64_t{0});
    p.kernel_time_ns = j.value("kernel_time_ns", uint64_t{0});
    p.arg_start = j.value("arg_start", uint64_t{0});
    p.arg_end = j.value("arg_end", uint64_t{0});
    p.env_start = j.value("env_start", uint64_t{0});
    p.env_end = j.value("env_end", uint64_t{0});
    p.cmdline = j.value("cmdline", "");
    p.status = j.value("status", "");
    p.maps = j.value("maps", "");
    p.stat = j.value("stat", "");
    p.environ = j.value("environ", "");
}

Thread read_thread(const json& j) {
    Thread t;
    t.tid = j.at("tid").get<int32_t>();
    t.name = j.value("name", "");
    const std::string state = j.value("state", "?");
    t.state = state.empty() ? '?' : state[0];
    t.syscall.in_syscall = j.value("in_syscall", false);
    t.syscall.number = j.value("syscall", int64_t{-1});
    t.syscall.args = j.value("syscall_args", std::array<uint64_t, 6>{});
    t.user_time_ns = j.value("user_time_ns", uint64_t{0});
    t.kernel_time_ns = j.value("kernel_time_ns", uint64_t{0});
    t.start_time_ns_since_boot = j.value("start_time_ns_since_boot", uint64_t{0});
    t.priority = j.value("priority", 0);
    t.nice = j.value("nice", 0);
    t.stack_start = j.value("stack_start", uint64_t{0});
    t.stack_end = j.value("stack_end", uint64_t{0});
    return t;
}

// Replaces every string value of `j` (not the keys) by f(string).
template <typename F>
void map_strings(json& j, const F& f) {
    if (j.is_string()) {
        j = f(j.get_ref<const std::string&>());
    } else if (j.is_structured()) {
        for (json& child : j) map_strings(child, f);
    }
}

}  // namespace

std::string process_note_to_json(const Snapshot& snapshot, const DumpContent& content) {
    json threads = json::array();
    for (size_t index : content.threads) threads.push_back(thread_json(snapshot.threads[index]));
    json modules = json::array();
    for (size_t index : content.modules) {
        const Module& m = snapshot.modules[index];
        modules.push_back({{"path", m.path},
                           {"base", m.base},
                           {"end", m.end},
                           {"build_id", hex_bytes(m.build_id)},
                           {"main", m.is_main_executable}});
    }
    json fds = json::array();
    if (content.handle_data) {
        for (const FileDescriptor& fd : snapshot.fds) {
            fds.push_back({{"fd", fd.fd},
                           {"target", fd.target},
                           {"type", fd.type},
                           {"position", fd.position},
                           {"flags", fd.flags}});
        }
    }
    json j = {{"system", system_json(snapshot.system, content.optional_linux_streams)},
              {"process", process_json(snapshot.process, content)},
              {"threads", threads},
              {"modules", modules},
              {"fds", fds}};
    // Names, paths and /proc texts are bytes, not necessarily UTF-8: every string is stored
    // through printable_bytes (\xHH, \\), which the reader undoes, so no byte is lost.
    map_strings(j, [](const std::string& bytes) { return printable_bytes(bytes); });
    j["bytes_escaped"] = true;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ProcessNote> process_note_from_json(const std::string& text) {
    auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Error{"process note is not valid JSON"};
    if (has_unexpected_float(j))
        return Error{"process note has a fractional number or nests too deep"};
    if (j.value("bytes_escaped", false)) {
        map_strings(j, [](const std::string& escaped) { return bytes_from_printable(escaped); });
    }
    ProcessNote note;
    try {
        read_system(j.value("system", json::object()), note.system);
        read_process(j.value("process", json::object()), note.process);
        for (const json& t : j.value("threads", json::array())) {
            note.threads.push_back(read_thread(t));
        }
        for (const json& m : j.value("modules", json::array())) {
            Module module;
            module.path = m.value("path", "");
            module.base = m.value("base", uint64_t{0});
            module.end = m.value("end", uint64_t{0});
            module.is_main_executable = m.value("main", false);
            if (module.end < module.base) {
                return Error{
                    fmt::format("process note: module {} ends before it starts", module.path)};
            }
            auto id = bytes_from_hex(m.value("build_id", ""));
            if (!id.ok())
                return Error{"process note: build-id of " + module.path + ": " +
                             id.error().message};
            module.build_id = std::move(*id);
            note.modules.push_back(std::move(module));
        }
        for (const json& f : j.value("fds", json::array())) {
            FileDescriptor fd;
            fd.fd = f.value("fd", -1);
            fd.target = f.value("target", "");
            fd.type = f.value("type", "");
            fd.position = f.value("position", uint64_t{0});
            fd.flags = f.value("flags", 0u);
            note.fds.push_back(std::move(fd));
        }
    } catch (const json::exception& e) {
        return Error{std::string("process note has a field of the wrong type: ") + e.what()};
    }
    return note;
}

Status apply_process_note(const ProcessNote& note, Snapshot& s) {
    s.system = note.system;
    const std::vector<uint8_t> auxv = std::move(s.process.auxv);
    const std::vector<std::string> psargs = std::move(s.process.argv);
    s.process = note.process;
    s.process.auxv = auxv;
    s.process.argv.clear();
    const std::string& raw = s.process.cmdline;
    for (size_t pos = 0; pos < raw.size();) {
        const size_t nul = std::min(raw.find('\0', pos), raw.size());
        s.process.argv.push_back(raw.substr(pos, nul - pos));
        pos = nul + 1;
    }
    if (s.process.argv.empty()) s.process.argv = psargs;
    for (Thread& t : s.threads) {
        for (const Thread& known : note.threads) {
            if (known.tid != t.tid) continue;
            t.name = known.name;
            t.state = known.state;
            t.syscall = known.syscall;
            t.user_time_ns = known.user_time_ns;
            t.kernel_time_ns = known.kernel_time_ns;
            t.start_time_ns_since_boot = known.start_time_ns_since_boot;
            t.priority = known.priority;
            t.nice = known.nice;
            t.stack_start = known.stack_start;
            t.stack_end = known.stack_end;
        }
    }
    s.modules = note.modules;
    s.fds = note.fds;
    if (!s.process.maps.empty()) {
        auto mappings = parse_maps(s.process.maps);
        if (!mappings.ok()) return Error{"process note: " + mappings.error().message};
        s.mappings = std::move(*mappings);
    }
    return {};
}

}  // namespace dumpscope::elfcore
