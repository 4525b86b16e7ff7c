// .ecxr / exception: signal, si_code, fault address, thread and its registers at the exception
// (and in `dumpscope debug`, `k` and `r` then use that context); r: registers of the current
// thread.
#include <fmt/format.h>

#include "analysis/command.h"
#include "analysis/signal_names.h"
#include "analysis/symbolizer.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

struct NamedRegister {
    const char* name;
    uint64_t X86GeneralRegisters::*field;
};

constexpr NamedRegister kRegisters[] = {
    {"rax", &X86GeneralRegisters::rax},
    {"rbx", &X86GeneralRegisters::rbx},
    {"rcx", &X86GeneralRegisters::rcx},
    {"rdx", &X86GeneralRegisters::rdx},
    {"rsi", &X86GeneralRegisters::rsi},
    {"rdi", &X86GeneralRegisters::rdi},
    {"rip", &X86GeneralRegisters::rip},
    {"rsp", &X86GeneralRegisters::rsp},
    {"rbp", &X86GeneralRegisters::rbp},
    {"r8", &X86GeneralRegisters::r8},
    {"r9", &X86GeneralRegisters::r9},
    {"r10", &X86GeneralRegisters::r10},
    {"r11", &X86GeneralRegisters::r11},
    {"r12", &X86GeneralRegisters::r12},
    {"r13", &X86GeneralRegisters::r13},
    {"r14", &X86GeneralRegisters::r14},
    {"r15", &X86GeneralRegisters::r15},
    {"efl", &X86GeneralRegisters::eflags},
    {"cs", &X86GeneralRegisters::cs},
    {"ss", &X86GeneralRegisters::ss},
    {"ds", &X86GeneralRegisters::ds},
    {"es", &X86GeneralRegisters::es},
    {"fs", &X86GeneralRegisters::fs},
    {"gs", &X86GeneralRegisters::gs},
    {"fs_base", &X86GeneralRegisters::fs_base},
    {"gs_base", &X86GeneralRegisters::gs_base},
    {"orig_rax", &X86GeneralRegisters::orig_rax},
};

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

// WinDbg's layout: three registers a line, then flags and segments.
std::string registers_text(const X86GeneralRegisters& r) {
    std::string out;
    const std::pair<const char*, uint64_t> rows[][3] = {
        {{"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx}},
        {{"rdx", r.rdx}, {"rsi", r.rsi}, {"rdi", r.rdi}},
        {{"rip", r.rip}, {"rsp", r.rsp}, {"rbp", r.rbp}},
        {{" r8", r.r8}, {" r9", r.r9}, {"r10", r.r10}},
        {{"r11", r.r11}, {"r12", r.r12}, {"r13", r.r13}},
    };
    for (const auto& line : rows) {
        out += fmt::format("{}={:016x} {}={:016x} {}={:016x}\n", line[0].first, line[0].second,
                           line[1].first, line[1].second, line[2].first, line[2].second);
    }
    out += fmt::format("r14={:016x} r15={:016x}\n", r.r14, r.r15);
    out += fmt::format("efl={:08x} orig_rax={:016x} fs_base={:016x} gs_base={:016x}\n", r.eflags,
                       r.orig_rax, r.fs_base, r.gs_base);
    out += fmt::format("cs={:04x}  ss={:04x}  ds={:04x}  es={:04x}  fs={:04x}  gs={:04x}\n", r.cs,
                       r.ss, r.ds, r.es, r.fs, r.gs);
    return out;
}

nlohmann::json registers_json(const X86GeneralRegisters& r) {
    nlohmann::json j = nlohmann::json::object();
    for (const NamedRegister& reg : kRegisters) j[reg.name] = r.*reg.field;
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
    const std::string code = signal_code_name(e.signal.signo, e.signal.code);
    std::string thread_name;
    if (auto index = dump.thread_index(e.tid))
        thread_name = printable_bytes(s.threads[*index].name);
    out.text = fmt::format(
        "Signal:  {} ({}){}\n", signal_name(e.signal.signo), e.signal.signo,
        fmt::format(", code {}{}", e.signal.code, code.empty() ? "" : " (" + code + ")"));
    if (e.signal.fault_address != 0 || e.signal.signo == 11 || e.signal.signo == 7) {
        out.text += fmt::format("Address: {}\n", windbg_pointer(e.signal.fault_address));
    }
    if (e.signal.sender_pid != 0) out.text += fmt::format("Sender:  pid {}\n", e.signal.sender_pid);
    out.text += fmt::format("Thread:  {}{}\n", e.tid,
                            thread_name.empty() ? "" : " \"" + thread_name + "\"");
    out.text += "At:      " + location(dump, e.context.gp.rip) + "\n";
    out.text += registers_text(e.context.gp);
    out.json = {{"signal", e.signal.signo},
                {"signal_name", signal_name(e.signal.signo)},
                {"code", e.signal.code},
                {"code_name", code},
                {"address", e.signal.fault_address},
                {"sender_pid", e.signal.sender_pid},
                {"tid", e.tid},
                {"thread_name", thread_name},
                {"location", location(dump, e.context.gp.rip)},
                {"registers", registers_json(e.context.gp)}};
    return out;
}

Result<CommandOutput> command_registers(DumpAnalysis& dump, const CommandArgs& args) {
    const Snapshot& s = dump.snapshot();
    if (s.threads.empty() && !s.exception) return Error{"the dump has no threads"};
    const X86GeneralRegisters& r = dump.exception_context_selected() || s.threads.empty()
                                       ? s.exception->context.gp
                                       : s.threads[dump.current_thread()].regs.gp;
    CommandOutput out;
    if (args.empty()) {
        out.text = registers_text(r) + location(dump, r.rip) + ":\n";
        out.json = registers_json(r);
        return out;
    }
    out.json = nlohmann::json::object();
    for (const std::string& name : args) {
        const NamedRegister* found = nullptr;
        for (const NamedRegister& reg : kRegisters) {
            if (name == reg.name || (name == "rflags" && std::string(reg.name) == "efl"))
                found = &reg;
        }
        if (found == nullptr) return Error{"unknown register '" + name + "'"};
        out.text += fmt::format("{}={:016x}\n", found->name, r.*found->field);
        out.json[found->name] = r.*found->field;
    }
    return out;
}

}  // namespace dumpscope::analysis
