#include "analysis/stack_json.h"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/command.h"
#include "analysis/symbolizer.h"
#include "arch/arch.h"
#include "common/paths.h"
#include "common/printable_bytes.h"
#include "procfs/signal_names.h"

namespace dumpscope::analysis {

namespace {

using nlohmann::json;

json frame_json(const Frame& frame, size_t index) {
    json j = {
        {"frame", index},
        {"trust", trust_name(frame.trust)},
        {"offset", hex_string(frame.pc)},
        {"module", frame.module.empty() ? json() : json(printable_bytes(frame.module))},
        {"module_offset", frame.module.empty() ? json() : json(hex_string(frame.module_offset()))},
        {"function", frame.function.empty() ? json() : json(frame.function)},
        {"function_offset",
         frame.function.empty() ? json() : json(hex_string(frame.function_offset))},
        {"file", frame.file.empty() ? json() : json(frame.file)},
        {"line", frame.file.empty() ? json() : json(frame.line)},
        {"missing_symbols", frame.function.empty()}};
    if (!frame.inlines.empty()) {
        json inlines = json::array();
        for (const InlineCall& call : frame.inlines) {
            inlines.push_back({{"function", call.function},
                               {"file", call.file.empty() ? json() : json(call.file)},
                               {"line", call.file.empty() ? json() : json(call.line)}});
        }
        j["inlines"] = inlines;
    }
    return j;
}

json thread_json(const ThreadStack& stack, size_t max_frames) {
    json frames = json::array();
    const size_t count = std::min(max_frames, stack.frames.size());
    for (size_t i = 0; i < count; ++i) frames.push_back(frame_json(stack.frames[i], i));
    return {{"thread_id", stack.tid},
            {"thread_name", stack.name.empty() ? json() : json(printable_bytes(stack.name))},
            {"last_error_value", json()},
            {"frame_count", count},
            {"truncated", stack.truncated || count < stack.frames.size()},
            {"frames", frames}};
}

// The registers minidump-stackwalk lists for the architecture.
json registers_json(const CpuContext& context) {
    json j = json::object();
    for (const arch::NamedRegister& reg : arch::general_registers(context)) {
        if (reg.stackwalk_name != nullptr) j[reg.stackwalk_name] = hex_string(reg.value);
    }
    return j;
}

json system_json(const Snapshot& s) {
    std::string cpu = s.system.cpu_vendor;
    if (s.system.cpu_family != 0) {
        cpu += fmt::format("{}family {} model {} stepping {}", cpu.empty() ? "" : " ",
                           s.system.cpu_family, s.system.cpu_model, s.system.cpu_stepping);
    }
    return {{"os", s.system.sysname.empty() ? "Linux" : s.system.sysname},
            {"os_ver", s.system.release.empty() ? json() : json(s.system.release)},
            {"cpu_arch", "amd64"},
            {"cpu_info", cpu.empty() ? json() : json(cpu)},
            {"cpu_count", s.system.cpu_count == 0 ? json() : json(s.system.cpu_count)},
            {"cpu_microcode_version", json()}};
}

// ID, VERSION_ID, VERSION_CODENAME, PRETTY_NAME of os-release.
json lsb_json(const std::string& os_release) {
    auto field = [&](const std::string& key) -> json {
        const std::string prefix = key + "=";
        size_t pos = 0;
        while (pos < os_release.size()) {
            const size_t end = std::min(os_release.find('\n', pos), os_release.size());
            std::string line = os_release.substr(pos, end - pos);
            if (line.rfind(prefix, 0) == 0) {
                std::string value = line.substr(prefix.size());
                if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                    value = value.substr(1, value.size() - 2);
                }
                return value;
            }
            pos = end + 1;
        }
        return json();
    };
    return {{"id", field("ID")},
            {"release", field("VERSION_ID")},
            {"codename", field("VERSION_CODENAME")},
            {"description", field("PRETTY_NAME")}};
}

json modules_json(DumpAnalysis& dump) {
    json modules = json::array();
    auto session = dump.session();
    for (size_t i = 0; i < dump.snapshot().modules.size(); ++i) {
        const Module& m = dump.snapshot().modules[i];
        const ModuleReport* report = session.ok() ? &(*session)->modules()[i] : nullptr;
        const bool loaded = report != nullptr && report->dwfl_module != nullptr;
        modules.push_back(
            {{"base_addr", hex_string(m.base)},
             {"end_addr", hex_string(m.end)},
             {"filename", printable_bytes(base_name(m.path))},
             {"debug_file", printable_bytes(base_name(m.path))},
             {"debug_id", m.build_id.empty() ? json() : json(breakpad_debug_id(m.build_id))},
             {"code_id", m.build_id.empty() ? json() : json(hex_build_id(m.build_id))},
             {"version", json()},
             {"cert_subject", json()},
             {"missing_symbols", !loaded},
             {"loaded_symbols", loaded},
             {"corrupt_symbols", false},
             {"symbol_url", json()},
             {"symbol_status",
              report != nullptr ? symbol_status_name(report->files.status) : "unknown"}});
    }
    return modules;
}

}  // namespace

std::string breakpad_debug_id(const std::vector<uint8_t>& build_id) {
    std::array<uint8_t, 16> guid{};
    std::copy_n(build_id.begin(), std::min<size_t>(build_id.size(), 16), guid.begin());
    std::swap(guid[0], guid[3]);
    std::swap(guid[1], guid[2]);
    std::swap(guid[4], guid[5]);
    std::swap(guid[6], guid[7]);
    std::string out;
    for (uint8_t b : guid) out += fmt::format("{:02X}", b);
    return out + "0";
}

json stackwalk_json(DumpAnalysis& dump, const std::vector<const ThreadStack*>& stacks,
                    size_t max_frames) {
    const Snapshot& s = dump.snapshot();
    json threads = json::array();
    for (const ThreadStack* stack : stacks) threads.push_back(thread_json(*stack, max_frames));
    json crash = {
        {"type", json()}, {"address", json()}, {"crashing_thread", json()}, {"assertion", json()}};
    json j = {{"status", "OK"}, {"pid", s.process.pid}};
    if (s.exception) {
        const SignalInfo& signal = s.exception->signal;
        const std::string code = si_code_name(signal.signo, signal.code);
        crash["type"] = signal_name(signal.signo) + (code.empty() ? "" : " / " + code);
        crash["address"] = hex_string(signal.fault_address);
        crash["crashing_thread"] = s.exception->tid;
    }
    j["crash_info"] = crash;
    j["system_info"] = system_json(s);
    j["thread_count"] = stacks.size();
    j["threads"] = threads;
    if (s.exception) {
        for (size_t i = 0; i < stacks.size(); ++i) {
            if (stacks[i]->tid != s.exception->tid) continue;
            json crashing = thread_json(*stacks[i], max_frames);
            crashing["threads_index"] = i;
            crashing["registers"] = registers_json(s.exception->context);
            j["crashing_thread"] = crashing;
        }
    }
    for (size_t i = 0; i < s.modules.size(); ++i) {
        if (s.modules[i].is_main_executable) j["main_module"] = i;
    }
    j["modules_contains_cert_info"] = false;
    j["modules"] = modules_json(dump);
    j["unloaded_modules"] = json::array();
    if (!s.system.os_release.empty()) j["lsb_release"] = lsb_json(s.system.os_release);
    return j;
}

}  // namespace dumpscope::analysis
