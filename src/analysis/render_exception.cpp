// .ecxr / exception: signal, si_code, fault address, thread and its registers at the exception
// (and in `dumpscope debug`, `k` and `r` then use that context); r: registers of the current
// thread.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "analysis/command.h"
#include "analysis/symbolizer.h"
#include "arch/arch.h"
#include "common/printable_bytes.h"
#include "procfs/signal_names.h"

namespace dumpscope::analysis {

namespace {

std::string location(DumpAnalysis& dump, uint64_t pc) {
    Frame frame;
    frame.pc = pc;
    auto session = dump.session();
    if (session.ok()) symbolize(**session, frame);
    if (frame.module.empty()) return windbg_pointer(pc);
    std::string text =
        frame.function.empty()
            ? fmt::format("{}+{:#x}", frame.module, frame.module_offset())
            : fmt::format("{}!{}+{:#x}", frame.module, frame.function, frame.function_offset);
    if (!frame.file.empty()) text += fmt::format(" [{} @ {}]", frame.file, frame.line);
    return text;
}

// A vector register as its 64-bit lanes, lane 0 first (gdb's v2_int64 / v4_int64 order).
std::vector<uint64_t> lanes(const arch::VectorRegister& reg) {
    std::vector<uint64_t> out(reg.bytes.size() / sizeof(uint64_t));
    std::memcpy(out.data(), reg.bytes.data(), out.size() * sizeof(uint64_t));
    return out;
}

std::string vector_text(const arch::VectorRegister& reg) {
    std::string text = reg.name + "={";
    const std::vector<uint64_t> values = lanes(reg);
    for (size_t i = 0; i < values.size(); ++i) {
        text += fmt::format("{}{:#018x}", i == 0 ? "" : " ", values[i]);
    }
    return text + "}\n";
}

// The widest vector registers the context holds (ymm when it has the AVX state, else xmm).
std::string widest_vectors_text(const std::vector<arch::VectorRegister>& vectors) {
    size_t widest = 0;
    for (const auto& reg : vectors) widest = std::max(widest, reg.bytes.size());
    std::string text;
    for (const auto& reg : vectors) {
        if (reg.bytes.size() == widest) text += vector_text(reg);
    }
    return text;
}

nlohmann::json registers_json(const CpuContext& context) {
    nlohmann::json j = nlohmann::json::object();
    for (const arch::NamedRegister& reg : arch::general_registers(context)) j[reg.name] = reg.value;
    return j;
}

}  // namespace

Result<CommandOutput> command_exception(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{".ecxr takes no arguments"};
    const Snapshot& s = dump.snapshot();
    CommandOutput out;
    if (!s.exception) {
        out.text = "The dump has no exception record (it was not written for a signal).\n";
        out.json = nullptr;
        return out;
    }
    dump.select_exception_context();
    const ExceptionInfo& e = *s.exception;
    const std::string code = si_code_name(e.signal.signo, e.signal.code);
    const std::string code_description = si_code_description(e.signal.signo, e.signal.code);
    const std::string description = signal_description(e.signal.signo);
    std::string thread_name;
    if (auto index = dump.thread_index(e.tid))
        thread_name = printable_bytes(s.threads[*index].name);
    // "Signal:  SIGSEGV (11, Segmentation fault), code 1 (SEGV_MAPERR, address not mapped ...)"
    out.text =
        fmt::format("Signal:  {} ({}{}), code {}{}\n", signal_name(e.signal.signo), e.signal.signo,
                    description.empty() ? "" : ", " + description, e.signal.code,
                    code.empty() ? "" : " (" + code + ", " + code_description + ")");
    if (e.signal.fault_address != 0 || e.signal.signo == 11 || e.signal.signo == 7) {
        out.text += fmt::format("Address: {}\n", windbg_pointer(e.signal.fault_address));
    }
    if (e.signal.sender_pid != 0) out.text += fmt::format("Sender:  pid {}\n", e.signal.sender_pid);
    out.text += fmt::format("Thread:  {}{}\n", e.tid,
                            thread_name.empty() ? "" : " \"" + thread_name + "\"");
    out.text += "At:      " + location(dump, e.context.pc()) + "\n";
    out.text += arch::registers_text(e.context);
    out.json = {{"signal", e.signal.signo},
                {"signal_name", signal_name(e.signal.signo)},
                {"signal_description", description},
                {"code", e.signal.code},
                {"code_name", code},
                {"code_description", code_description},
                {"address", e.signal.fault_address},
                {"sender_pid", e.signal.sender_pid},
                {"tid", e.tid},
                {"thread_name", thread_name},
                {"location", location(dump, e.context.pc())},
                {"registers", registers_json(e.context)}};
    return out;
}

Result<CommandOutput> command_registers(DumpAnalysis& dump, const CommandArgs& args) {
    const Snapshot& s = dump.snapshot();
    if (s.threads.empty() && !s.exception) return Error{"the dump has no threads"};
    const CpuContext& r = dump.exception_context_selected() || s.threads.empty()
                              ? s.exception->context
                              : s.threads[dump.current_thread()].regs;
    CommandOutput out;
    const std::vector<arch::VectorRegister> vectors = arch::vector_registers(r);
    if (args.empty()) {
        out.text =
            arch::registers_text(r) + widest_vectors_text(vectors) + location(dump, r.pc()) + ":\n";
        out.json = registers_json(r);
        for (const auto& reg : vectors) out.json[reg.name] = lanes(reg);
        return out;
    }
    out.json = nlohmann::json::object();
    const std::vector<arch::NamedRegister> registers = arch::general_registers(r);
    for (const std::string& name : args) {
        const auto vector = std::find_if(vectors.begin(), vectors.end(),
                                         [&](const auto& reg) { return name == reg.name; });
        if (vector != vectors.end()) {
            out.text += vector_text(*vector);
            out.json[vector->name] = lanes(*vector);
            continue;
        }
        const auto found = std::find_if(registers.begin(), registers.end(), [&](const auto& reg) {
            return name == reg.name || (reg.alias != nullptr && name == reg.alias);
        });
        if (found == registers.end()) return Error{"unknown register '" + name + "'"};
        out.text += fmt::format("{}={:016x}\n", found->name, found->value);
        out.json[found->name] = found->value;
    }
    return out;
}

}  // namespace dumpscope::analysis
