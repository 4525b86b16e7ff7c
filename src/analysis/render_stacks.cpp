// k [N], ~*k, stack [--thread TID | --all] [--max-frames N]: frames with module!function+offset
// [file @ line] and how each frame was found; a recursion is folded into one line after its first
// round, a stack cut by the frame limit ends with a "truncated" line. JSON: minidump-stackwalk's
// field names (rust-minidump's JSON schema), every frame, and "truncated".
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "analysis/command.h"
#include "analysis/stack_json.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

std::string call_site(const Frame& frame) {
    if (frame.module.empty()) return windbg_pointer(frame.pc);
    const std::string module = printable_bytes(frame.module);
    if (frame.function.empty()) return fmt::format("{}+{:#x}", module, frame.module_offset());
    return fmt::format("{}!{}+{:#x}", module, frame.function, frame.function_offset);
}

std::string source(const std::string& file, int line) {
    if (file.empty()) return {};
    return fmt::format(" [{} @ {}]", file, line);
}

// A run of frames is folded when one round of it (1 to kMaxRoundFrames frames) repeats at least
// kMinRounds times in a row.
constexpr size_t kMaxRoundFrames = 4;
constexpr size_t kMinRounds = 8;

// What identifies a frame in a recursion: its function (and what is inlined there), else its
// return address.
std::string fold_key(const Frame& frame) {
    if (frame.function.empty()) return fmt::format("{}+{:#x}", frame.module, frame.pc);
    std::string key = frame.module + "!" + frame.function;
    for (const InlineCall& call : frame.inlines) key += "<" + call.function;
    return key;
}

struct Round {
    size_t frames = 0;  // frames in one round, 0 if no recursion starts here
    size_t rounds = 0;
};

Round recursion_at(const std::vector<std::string>& keys, size_t at) {
    for (size_t length = 1; length <= kMaxRoundFrames; ++length) {
        size_t rounds = 1;
        while (at + (rounds + 1) * length <= keys.size() &&
               std::equal(keys.begin() + at, keys.begin() + at + length,
                          keys.begin() + at + rounds * length)) {
            ++rounds;
        }
        if (rounds >= kMinRounds) return {length, rounds};
    }
    return {};
}

std::string round_names(const std::vector<Frame>& frames, size_t at, size_t length) {
    std::string names;
    for (size_t i = at; i < at + length; ++i) {
        const Frame& frame = frames[i];
        if (!names.empty()) names += " > ";
        for (const InlineCall& call : frame.inlines) names += call.function + " > ";
        names += frame.function.empty() ? call_site(frame) : frame.function;
    }
    return names;
}

size_t rows_of(const Frame& frame) { return frame.inlines.size() + 1; }

void render_frame(const Frame& frame, size_t& number, std::string& out) {
    for (const InlineCall& call : frame.inlines) {
        out +=
            fmt::format("{:02x} {:<17} {:<17} {:<13} {}!{}{}\n", number++, "(Inline Function)",
                        "--------`--------", trust_name(frame.trust), printable_bytes(frame.module),
                        call.function, source(call.file, call.line));
    }
    out += fmt::format("{:02x} {} {} {:<13} {}{}\n", number++, windbg_pointer(frame.sp),
                       windbg_pointer(frame.pc), trust_name(frame.trust), call_site(frame),
                       source(frame.file, frame.line));
}

// Frames shown: the stack's first `shown` (all if it has fewer).
void render_frames(const ThreadStack& stack, size_t shown, std::string& out) {
    out += fmt::format(" # {:<17} {:<17} {:<13} Call Site\n", "Child-SP", "RetAddr/PC", "Trust");
    const std::vector<Frame>& frames = stack.frames;
    const size_t count = std::min(shown, frames.size());
    std::vector<std::string> keys;
    keys.reserve(count);
    for (size_t i = 0; i < count; ++i) keys.push_back(fold_key(frames[i]));
    size_t number = 0;
    for (size_t i = 0; i < count;) {
        const Round round = recursion_at(keys, i);
        if (round.frames == 0) {
            render_frame(frames[i++], number, out);
            continue;
        }
        for (size_t k = i; k < i + round.frames; ++k) render_frame(frames[k], number, out);
        const size_t end = i + round.frames * round.rounds;
        size_t rows = 0;
        for (size_t k = i + round.frames; k < end; ++k) rows += rows_of(frames[k]);
        out +=
            fmt::format("   frames {:02x}-{:02x}: {}, {} more times\n", number, number + rows - 1,
                        round_names(frames, i, round.frames), round.rounds - 1);
        number += rows;
        i = end;
    }
    if (stack.truncated || count < frames.size()) {
        out += fmt::format(
            "   truncated: the stack goes on past frame {} (--max-frames N or k N for more)\n",
            count);
    }
}

// "--max-frames N" (CLI) or a bare N (`k N`): how many frames to show; the rest of `args`.
Result<size_t> frame_limit(const CommandArgs& args, CommandArgs& rest) {
    size_t limit = kDefaultMaxFrames;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string number;
        if (args[i] == "--max-frames" && i + 1 < args.size()) {
            number = args[++i];
        } else if (!args[i].empty() && std::isdigit(static_cast<unsigned char>(args[i][0]))) {
            number = args[i];
        } else {
            rest.push_back(args[i]);
            if (args[i] == "--thread" && i + 1 < args.size()) rest.push_back(args[++i]);
            continue;
        }
        char* end = nullptr;
        errno = 0;
        const unsigned long long value = std::strtoull(number.c_str(), &end, 0);
        if (errno != 0 || end == number.c_str() || *end != '\0' || value == 0) {
            return Error{"frame count '" + number + "' is not a number of frames (1 or more)"};
        }
        limit = static_cast<size_t>(value);
    }
    return limit;
}

std::string thread_header(const DumpAnalysis& dump, size_t index) {
    const Thread& t = dump.snapshot().threads[index];
    return fmt::format("{:>3}  Id: {:x}.{:x} Tid {}{}\n", index, dump.snapshot().process.pid, t.tid,
                       t.tid, t.name.empty() ? "" : " \"" + printable_bytes(t.name) + "\"");
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
            return Error{"unexpected argument '" + args[i] +
                         "' (--thread TID, --all, --max-frames N)"};
        }
    }
    if (out.empty() && !dump.snapshot().threads.empty()) out.push_back(dump.current_thread());
    return out;
}

}  // namespace

Result<CommandOutput> command_stack(DumpAnalysis& dump, const CommandArgs& all_args) {
    CommandArgs args;
    auto limit = frame_limit(all_args, args);
    if (!limit.ok()) return limit.error();
    if (dump.exception_context_selected() && args.empty()) {
        auto stack = dump.exception_stack(*limit);
        if (!stack.ok()) return stack.error();
        if (*stack) {
            CommandOutput out;
            out.text = "Exception context of thread " + std::to_string((*stack)->tid) + "\n";
            render_frames(**stack, *limit, out.text);
            out.json = stackwalk_json(dump, {&**stack}, *limit);
            return out;
        }
    }
    auto indexes = chosen_threads(dump, args);
    if (!indexes.ok()) return indexes.error();
    std::vector<const ThreadStack*> stacks;
    CommandOutput out;
    if (indexes->empty()) out.text = no_threads_text(dump.snapshot());
    for (size_t index : *indexes) {
        auto stack = dump.stack(index, *limit);
        if (!stack.ok()) return stack.error();
        stacks.push_back(*stack);
        if (indexes->size() > 1) {
            if (stacks.size() > 1) out.text += '\n';
            out.text += thread_header(dump, index);
        }
        render_frames(**stack, *limit, out.text);
    }
    out.json = stackwalk_json(dump, stacks, *limit);
    return out;
}

Result<CommandOutput> command_all_stacks(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{"~*k takes no arguments"};
    return command_stack(dump, {"--all"});
}

}  // namespace dumpscope::analysis
