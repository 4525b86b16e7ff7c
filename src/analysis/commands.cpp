// The debugger shell's words and the helpers every renderer shares.
#include <fmt/format.h>

#include <cctype>
#include <sstream>

#include "analysis/command.h"

namespace dumpscope::analysis {

namespace {

struct Word {
    const char* word;
    CommandFunction run;
    const char* help;
};

constexpr Word kWords[] = {
    {"vertarget", command_target, "system, CPU, process, command line, dump time, uptimes"},
    {"~", command_threads, "threads: id, name, state, system call, CPU times, where it is"},
    {"~*k", command_all_stacks, "the stack of every thread"},
    {"k", command_stack, "k [N]: the current thread's stack (after .ecxr: at the exception)"},
    {"lm", command_modules, "modules: range, name, build-id, symbol status"},
    {".ecxr", command_exception, "the exception: signal, code, address, thread, registers"},
    {"r", command_registers, "registers of the current thread (r REG... for some)"},
    {"db", command_memory, "db ADDR [L<count>]: bytes (also dw, dd, dq, da)"},
    {"!address", command_regions, "!address [ADDR | -summary]: memory regions and usage"},
    {"!handle", command_handles, "file descriptors: type and target"},
};

// Words added by higher layers (register_debugger_word).
std::vector<Word>& registered_words() {
    static std::vector<Word> words;
    return words;
}

std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

// "~3s", "~3k", "~12 s": the thread of a ~N prefix, by the index `~` shows.
Result<CommandOutput> thread_prefixed(DumpAnalysis& dump, const std::vector<std::string>& words) {
    std::string first = words[0].substr(1);
    size_t digits = 0;
    while (digits < first.size() && std::isdigit(static_cast<unsigned char>(first[digits]))) {
        ++digits;
    }
    const size_t index = std::stoul(first.substr(0, digits));
    std::string verb = first.substr(digits);
    if (verb.empty() && words.size() > 1) verb = words[1];
    if (index >= dump.snapshot().threads.size()) {
        return Error{
            fmt::format("no thread {} (the dump has {})", index, dump.snapshot().threads.size())};
    }
    if (verb == "s") {
        dump.select_thread(index);
        return command_threads(dump, {std::to_string(index)});
    }
    if (verb == "k") {
        return command_stack(dump,
                             {"--thread", std::to_string(dump.snapshot().threads[index].tid)});
    }
    return Error{"unknown thread command '" + words[0] + "' (~Ns selects, ~Nk walks)"};
}

}  // namespace

const char* trust_name(FrameTrust trust) {
    switch (trust) {
        case FrameTrust::kContext:
            return "context";
        case FrameTrust::kCfi:
            return "cfi";
        case FrameTrust::kFramePointer:
            return "frame_pointer";
        case FrameTrust::kScan:
            return "scan";
    }
    return "unknown";
}

std::string windbg_pointer(uint64_t value) {
    return fmt::format("{:08x}`{:08x}", value >> 32, value & 0xffffffffu);
}

std::string hex_string(uint64_t value) { return fmt::format("{:#018x}", value); }

std::string debugger_help() {
    std::string out;
    for (const Word& word : kWords) out += fmt::format("  {:<10} {}\n", word.word, word.help);
    for (const Word& word : registered_words()) {
        out += fmt::format("  {:<10} {}\n", word.word, word.help);
    }
    out += fmt::format("  {:<10} {}\n", "~Ns", "make thread N (as ~ numbers them) the current one");
    out += fmt::format("  {:<10} {}\n", "~Nk", "the stack of thread N");
    out += fmt::format("  {:<10} {}\n", "q", "quit");
    return out;
}

void register_debugger_word(const char* word, CommandFunction run, const char* help) {
    for (const Word& known : registered_words()) {
        if (std::string(known.word) == word) return;
    }
    registered_words().push_back({word, run, help});
}

Result<CommandOutput> run_debugger_command(DumpAnalysis& dump, const std::string& line) {
    const std::vector<std::string> words = split_words(line);
    if (words.empty()) return CommandOutput{};
    const std::string& verb = words[0];
    const CommandArgs args(words.begin() + 1, words.end());
    if (verb == "help" || verb == "?" || verb == ".help") return CommandOutput{debugger_help(), {}};
    if (verb.size() > 1 && verb[0] == '~' && std::isdigit(static_cast<unsigned char>(verb[1]))) {
        return thread_prefixed(dump, words);
    }
    if (verb == "~*" && !args.empty() && args[0] == "k") return command_all_stacks(dump, {});
    if (verb == "dw" || verb == "dd" || verb == "dq" || verb == "da" || verb == "db") {
        CommandArgs memory_args{verb};
        memory_args.insert(memory_args.end(), args.begin(), args.end());
        return command_memory(dump, memory_args);
    }
    for (const Word& word : kWords) {
        if (verb == word.word) return word.run(dump, args);
    }
    for (const Word& word : registered_words()) {
        if (verb == word.word) return word.run(dump, args);
    }
    return Error{"unknown command '" + verb + "' (help lists the commands)"};
}

}  // namespace dumpscope::analysis
