// `dumpscope debug DUMP [-c "cmd; cmd"] [--json]`: a WinDbg-style command shell over a dump
// (~, ~*k, k, lm, .ecxr, r, db/dd/dq/da, !address, !handle, vertarget, and diagnosis/'s !analyze,
// !locks, !runaway). With -c the commands run
// in order and the shell exits; interactively, readline gives line editing and history; with
// stdin not a terminal, each line of stdin is a command.
#include <fmt/format.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/analysis_cli.h"
#include "diagnosis/debugger_words.h"

namespace dumpscope {

namespace {

std::vector<std::string> split_commands(const std::string& script) {
    std::vector<std::string> commands;
    size_t pos = 0;
    while (pos <= script.size()) {
        const size_t end = std::min(script.find(';', pos), script.size());
        std::string command = script.substr(pos, end - pos);
        const size_t first = command.find_first_not_of(" \t");
        const size_t last = command.find_last_not_of(" \t");
        if (first != std::string::npos) commands.push_back(command.substr(first, last - first + 1));
        pos = end + 1;
    }
    return commands;
}

std::string prompt(const analysis::DumpAnalysis& dump) {
    return fmt::format("0:{:03}> ", dump.current_thread());
}

bool is_quit(const std::string& command) {
    return command == "q" || command == "qq" || command == "quit" || command == "exit";
}

// Runs one command; false if it failed.
bool run_one(analysis::DumpAnalysis& dump, const std::string& command, bool json) {
    std::string line = command;
    if (line == "info") line = "vertarget";
    auto output = analysis::run_debugger_command(dump, line);
    if (!output.ok()) {
        fmt::print("error: {}\n", output.error().message);
        return false;
    }
    if (json) {
        fmt::print("{}\n",
                   output->json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        fmt::print("{}", output->text);
    }
    std::fflush(stdout);
    return true;
}

int interactive(analysis::DumpAnalysis& dump, bool json) {
    fmt::print("{}: {} threads, {} modules. Type help for the commands, q to quit.\n", dump.path(),
               dump.snapshot().threads.size(), dump.snapshot().modules.size());
    bool ok = true;
    for (;;) {
        std::unique_ptr<char, decltype(&std::free)> line(readline(prompt(dump).c_str()),
                                                         &std::free);
        if (!line) break;
        const std::string command = line.get();
        if (command.find_first_not_of(" \t") == std::string::npos) continue;
        add_history(line.get());
        for (const std::string& one : split_commands(command)) {
            if (is_quit(one)) return ok ? 0 : 1;
            ok = run_one(dump, one, json) && ok;
        }
    }
    return ok ? 0 : 1;
}

}  // namespace

void add_debug_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "debug", "A WinDbg-style command shell over a dump (-c \"~*k; lm\" for scripts)");
    add_dump_options(command, invocation);
    auto script = std::make_shared<std::string>();
    command->add_option("-c,--commands", *script, "Commands separated by ';', then exit");
    command->callback([&invocation, script] {
        invocation.action = [script](AnalysisInvocation& inv) {
            diagnosis::register_debugger_words();
            auto dump = open_for(inv, "debug");
            if (!dump.ok()) {
                fmt::print(stderr, "dumpscope debug: {}\n", dump.error().message);
                return 1;
            }
            if (script->empty() && ::isatty(STDIN_FILENO)) return interactive(**dump, inv.json);
            std::vector<std::string> commands = split_commands(*script);
            if (script->empty()) {
                for (std::string line; std::getline(std::cin, line);) {
                    for (const std::string& one : split_commands(line)) commands.push_back(one);
                }
            }
            bool ok = true;
            for (const std::string& one : commands) {
                if (is_quit(one)) break;
                if (!inv.json) fmt::print("{}{}\n", prompt(**dump), one);
                ok = run_one(**dump, one, inv.json) && ok;
            }
            return ok ? 0 : 1;
        };
    });
}

}  // namespace dumpscope
