// ~ / threads: index, id, name, state, the system call it is blocked in (from the saved
// registers), user/kernel CPU time when the dump records them, and where it is (frame 0).
#include <fmt/format.h>

#include "analysis/command.h"
#include "analysis/symbolizer.h"
#include "analysis/syscall_names.h"
#include "common/printable_bytes.h"
#include "procfs/thread_state.h"

namespace dumpscope::analysis {

namespace {

std::string syscall_text(const SyscallState& call) {
    if (!call.in_syscall || call.number < 0) return {};
    return fmt::format("{}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x})", syscall_name(call.number),
                       call.args[0], call.args[1], call.args[2], call.args[3], call.args[4],
                       call.args[5]);
}

std::string seconds(uint64_t ns) { return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9); }

std::string where(DwflSession* session, const Thread& t, Frame& frame) {
    frame.pc = t.regs.pc();
    frame.sp = t.regs.sp();
    if (session != nullptr) symbolize(*session, frame);
    if (frame.module.empty()) return windbg_pointer(frame.pc);
    if (frame.function.empty()) return fmt::format("{}+{:#x}", frame.module, frame.module_offset());
    return fmt::format("{}!{}+{:#x}", frame.module, frame.function, frame.function_offset);
}

}  // namespace

std::string no_threads_text(const Snapshot& snapshot) {
    const std::string& type = snapshot.capture.dump_type;
    if (type.empty()) return "the dump holds no threads\n";
    return fmt::format("the dump holds no threads (a {} dump: its type leaves them out)\n", type);
}

Result<CommandOutput> command_threads(DumpAnalysis& dump, const CommandArgs& args) {
    const Snapshot& s = dump.snapshot();
    std::optional<size_t> only;
    if (!args.empty()) {
        only = std::stoul(args[0]);
        if (*only >= s.threads.size()) return Error{"no thread " + args[0]};
    }
    auto session = dump.session();
    DwflSession* symbols = session.ok() ? *session : nullptr;
    const bool times_known = std::any_of(s.threads.begin(), s.threads.end(), [](const Thread& t) {
        return t.user_time_ns != 0 || t.kernel_time_ns != 0;
    });
    CommandOutput out;
    out.json = nlohmann::json::array();
    for (size_t i = 0; i < s.threads.size(); ++i) {
        if (only && i != *only) continue;
        const Thread& t = s.threads[i];
        const bool current = i == dump.current_thread();
        const bool faulting = s.exception && s.exception->tid == t.tid;
        Frame frame;
        const std::string at = where(symbols, t, frame);
        const std::string call = syscall_text(t.syscall);
        out.text += fmt::format(
            "{}{}{:>3}  Id: {:x}.{:x} Tid {} \"{}\" {} ({})", current ? '.' : ' ',
            faulting ? '#' : ' ', i, s.process.pid, t.tid, t.tid, printable_bytes(t.name),
            t.state == '?' ? "?" : std::string(1, t.state), thread_state_word(t.state));
        if (times_known) {
            out.text += fmt::format(" user {} kernel {}", seconds(t.user_time_ns),
                                    seconds(t.kernel_time_ns));
        }
        out.text += "\n      at " + at + (call.empty() ? "" : "  in " + call) + "\n";
        nlohmann::json j = {{"index", i},
                            {"tid", t.tid},
                            {"name", printable_bytes(t.name)},
                            {"state", std::string(1, t.state)},
                            {"state_name", thread_state_word(t.state)},
                            {"current", current},
                            {"exception", faulting},
                            {"pc", t.regs.pc()},
                            {"sp", t.regs.sp()},
                            {"where", at},
                            {"stack_start", t.stack_start},
                            {"stack_end", t.stack_end}};
        if (t.syscall.in_syscall && t.syscall.number >= 0) {
            j["syscall"] = {{"number", t.syscall.number},
                            {"name", syscall_name(t.syscall.number)},
                            {"args", t.syscall.args}};
        }
        if (times_known) {
            j["user_time_ns"] = t.user_time_ns;
            j["kernel_time_ns"] = t.kernel_time_ns;
        }
        out.json.push_back(j);
    }
    if (s.threads.empty()) out.text = no_threads_text(s);
    return out;
}

}  // namespace dumpscope::analysis
