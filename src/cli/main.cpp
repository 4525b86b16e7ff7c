// dumpscope: capture and analyze Linux process memory dumps.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "cli/agent_command.h"
#include "cli/analysis_cli.h"
#include "cli/collect_command.h"
#include "cli/convert_command.h"
#include "cli/crash_handler_command.h"
#include "cli/info_command.h"
#include "cli/server_command.h"
#include "cli/signals.h"
#include "common/malloc_tuning.h"
#include "common/version.h"
#include "compress/read_errors.h"
#include "live/clone_reaper.h"
#include "service/analysis_child.h"

namespace {

// ProcDump's trigger options, for `collect` only (its -cl would be "-c" "l" to CLI11, so they
// are translated before parsing; no collect option uses these short names).
const char* procdump_trigger_option(const std::string& arg) {
    static const std::pair<const char*, const char*> kTable[] = {
        {"-c", "--cpu"},      {"-cl", "--cpu-below"}, {"-m", "--mem"},      {"-ml", "--mem-below"},
        {"-tc", "--threads"}, {"-fc", "--fds"},       {"-sig", "--signal"}, {"-n", "--count"},
        {"-s", "--seconds"},  {"-pf", "--poll"},      {"-w", "--wait"},     {"-pgid", "--pgid"},
    };
    for (const auto& [procdump, ours] : kTable)
        if (arg == procdump) return ours;
    return nullptr;
}

// ProcDump's spellings: -mm (mini), -mp (midi), -ma (full), -o (overwrite), and the triggers.
std::vector<std::string> translate_procdump_aliases(int argc, char** argv) {
    std::vector<std::string> args;
    // `dumpscope debug DUMP -c "k; lm"` is WinDbg's -c (commands), not ProcDump's.
    const bool debugger = argc > 1 && std::string(argv[1]) == "debug";
    const bool collect = argc > 1 && std::string(argv[1]) == "collect";
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (debugger) {
            args.push_back(a);
            continue;
        }
        if (a == "-mm")
            a = "--type=mini";
        else if (a == "-mp")
            a = "--type=midi";
        else if (a == "-ma")
            a = "--type=full";
        else if (a == "-o")
            a = "--overwrite";
        else if (collect && procdump_trigger_option(a) != nullptr)
            a = procdump_trigger_option(a);
        args.push_back(a);
    }
    return args;
}

// A compressed dump whose frame failed to decompress while a command read it gave zeros for
// those bytes: the command's output cannot be trusted, whatever it returned.
int checked_reads(int status) {
    if (auto error = dumpscope::compress::first_read_error()) {
        fmt::print(stderr, "dumpscope: {}\n", *error);
        return status == 0 || status == 2 ? 1 : status;
    }
    return status;
}

int run(int argc, char** argv) {
    // The clone reaper is dumpscope executed again by itself (live/clone_reaper.h).
    if (argc > 1 && std::string(argv[1]) == dumpscope::kCloneReaperArg) {
        return dumpscope::clone_reaper_main(argc, argv);
    }
    // So is the analysis of one dump for `dumpscope server` (service/analysis_child.h).
    if (argc > 1 && std::string(argv[1]) == dumpscope::service::kAnalysisChildArg) {
        return dumpscope::service::analysis_child_main(argc, argv);
    }
    CLI::App app{"dumpscope: capture and analyze Linux process memory dumps"};
    app.set_version_flag("--version", std::string("dumpscope ") + dumpscope::kToolVersion);
    app.require_subcommand(1);
    dumpscope::CollectCommand collect;
    dumpscope::InfoCommand info;
    dumpscope::ConvertCommand convert;
    collect.add_to(app);
    info.add_to(app);
    convert.add_to(app);
    dumpscope::AnalysisCommands analysis;
    analysis.add_to(app);
    dumpscope::CrashHandlerCommand crash_handler;
    crash_handler.add_to(app);
    dumpscope::ServerCommand server;
    server.add_to(app);
    dumpscope::AgentCommand agent;
    agent.add_to(app);

    std::vector<std::string> args = translate_procdump_aliases(argc, argv);
    std::vector<char*> cargs;
    cargs.reserve(args.size());
    for (auto& a : args) cargs.push_back(a.data());
    try {
        app.parse(static_cast<int>(cargs.size()), cargs.data());
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; every usage error exits 2, CLI11's as well as ours.
        return app.exit(e) == 0 ? 0 : 2;
    }
    dumpscope::install_cancel_handlers();
    int status = 2;
    if (collect.requested())
        status = collect.run();
    else if (info.requested())
        status = info.run();
    else if (convert.requested())
        status = convert.run();
    else if (analysis.requested()) {
        dumpscope::tune_malloc_for_analysis();
        status = analysis.run();
    } else if (crash_handler.requested())
        status = crash_handler.run();
    else if (server.requested())
        status = server.run();
    else if (agent.requested())
        status = agent.run();
    return checked_reads(status);
}

}  // namespace

int main(int argc, char** argv) {
    // Errors are values (common/result.h): an exception here is a bug or an allocation failure.
    // Catching it unwinds the stack, so every RAII guard resumes, detaches and removes what it
    // holds (an uncaught exception may terminate without unwinding, leaving the target stopped).
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fputs("dumpscope: internal error: ", stderr);
        std::fputs(e.what(), stderr);
        std::fputs("\n", stderr);
    } catch (...) {
        std::fputs("dumpscope: internal error: unknown exception\n", stderr);
    }
    return 1;
}
