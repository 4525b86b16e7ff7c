// k, ~*k, stack [--thread TID | --all]: frames with module!function+offset [file @ line] and how
// each frame was found. JSON: minidump-stackwalk's field names (rust-minidump's JSON schema).
#include <fmt/format.h>

#include "analysis/command.h"
#include "analysis/signal_names.h"
#include "analysis/stack_json.h"

namespace dumpscope::analysis {

namespace {

std::string call_site(const Frame& frame) {
    if (frame.module.empty()) return windbg_pointer(frame.pc);
    if (frame.function.empty()) return fmt::format("{}+{:#x}", frame.module, frame.module_offset());
    return fmt::format("{}!{}+{:#x}", frame.module, frame.function, frame.function_offset);
}

std::string source(const std::string& file, int line) {
    if (file.empty()) return {};
    return fmt::format(" [{} @ {}]", file, line);
}

void render_frames(const ThreadStack& stack, std::string& out) {
    out += fmt::format(" # {:<17} {:<17} {:<13} Call Site\n", "Child-SP", "RetAddr/PC", "Trust");
    size_t number = 0;
    for (const Frame& frame : stack.frames) {
        for (const InlineCall& call : frame.inlines) {
            out += fmt::format("{:02x} {:<17} {:<17} {:<13} {}!{}{}\n", number++,
                               "(Inline Function)", "--------`--------", trust_name(frame.trust),
                               frame.module, call.function, source(call.file, call.line));
        }
        out += fmt::format("{:02x} {} {} {:<13} {}{}\n", number++, windbg_pointer(frame.sp),
                           windbg_pointer(frame.pc), trust_name(frame.trust), call_site(frame),
                           source(frame.file, frame.line));
    }
}

std::string thread_header(const DumpAnalysis& dump, size_t index) {
    const Thread& t = dump.snapshot().threads[index];
    return fmt::format("{:>3}  Id: {:x}.{:x} Tid {}{}\n", index, dump.snapshot().process.pid, t.tid,
                       t.tid, t.name.empty() ? "" : " \"" + t.name + "\"");
}

// "--thread TID" / "--all" (CLI) or nothing (the current thread).
Result<std::vector<size_t>> chosen_threads(DumpAnalysis& dump, const CommandArgs& args) {
    std::vector<size_t> out;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--all") {
            for (size_t k = 0; k < dump.snapshot().threads.size(); ++k) out.push_back(k);
        } else if (args[i] == "--thread" && i + 1 < args.size()) {
            const auto tid = std::strtol(args[++i].c_str(), nullptr, 0);
            auto index = dump.thread_index(static_cast<int32_t>(tid));
            if (!index) return Error{"no thread " + args[i] + " in the dump"};
            out.push_back(*index);
        } else {
            return Error{"unexpected argument '" + args[i] + "' (--thread TID or --all)"};
        }
    }
    if (out.empty() && !dump.snapshot().threads.empty()) out.push_back(dump.current_thread());
    return out;
}

}  // namespace

Result<CommandOutput> command_stack(DumpAnalysis& dump, const CommandArgs& args) {
    if (dump.exception_context_selected() && args.empty()) {
        auto stack = dump.exception_stack();
        if (!stack.ok()) return stack.error();
        if (*stack) {
            CommandOutput out;
            out.text = "Exception context of thread " + std::to_string((*stack)->tid) + "\n";
            render_frames(**stack, out.text);
            out.json = stackwalk_json(dump, {&**stack});
            return out;
        }
    }
    auto indexes = chosen_threads(dump, args);
    if (!indexes.ok()) return indexes.error();
    std::vector<const ThreadStack*> stacks;
    CommandOutput out;
    for (size_t index : *indexes) {
        auto stack = dump.stack(index);
        if (!stack.ok()) return stack.error();
        stacks.push_back(*stack);
        if (indexes->size() > 1) {
            if (stacks.size() > 1) out.text += '\n';
            out.text += thread_header(dump, index);
        }
        render_frames(**stack, out.text);
    }
    out.json = stackwalk_json(dump, stacks);
    return out;
}

Result<CommandOutput> command_all_stacks(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{"~*k takes no arguments"};
    return command_stack(dump, {"--all"});
}

}  // namespace dumpscope::analysis
