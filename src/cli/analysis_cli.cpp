#include "cli/analysis_cli.h"

#include <fmt/format.h>

namespace dumpscope {

void add_dump_options(CLI::App* command, AnalysisInvocation& invocation) {
    command->add_option("DUMP", invocation.dump, "A minidump or an ELF core file")->required();
    command
        ->add_option("--symbols", invocation.symbol_dirs,
                     "A directory of symbol files (DIR/.build-id/xx/rest[.debug], DIR/name); "
                     "repeatable")
        ->allow_extra_args(false)
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", invocation.json, "Print JSON");
    command->add_flag("--no-cache", invocation.no_cache,
                      "Do not keep uncompressed copies of debug files (in $DUMPSCOPE_CACHE_DIR, "
                      "else ~/.cache/dumpscope)");
}

Result<std::unique_ptr<analysis::DumpAnalysis>> open_for(const AnalysisInvocation& invocation,
                                                         const char* name) {
    analysis::SymbolOptions options;
    options.symbol_dirs = invocation.symbol_dirs;
    if (!invocation.no_cache) options.cache_dir = analysis::DebugFileCache::default_directory();
    auto dump = analysis::open_dump_analysis(invocation.dump, options);
    if (dump.ok()) {
        for (const std::string& warning : (*dump)->snapshot().warnings) {
            fmt::print(stderr, "dumpscope {}: warning: {}\n", name, warning);
        }
    }
    return dump;
}

int run_analysis_command(const AnalysisInvocation& invocation, const char* name,
                         analysis::CommandFunction function, const analysis::CommandArgs& args) {
    auto dump = open_for(invocation, name);
    if (!dump.ok()) {
        fmt::print(stderr, "dumpscope {}: {}\n", name, dump.error().message);
        return 1;
    }
    auto output = function(**dump, args);
    if (!output.ok()) {
        fmt::print(stderr, "dumpscope {}: {}\n", name, output.error().message);
        return 1;
    }
    if (invocation.json) {
        fmt::print("{}\n",
                   output->json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        fmt::print("{}", output->text);
    }
    return 0;
}

void AnalysisCommands::add_to(CLI::App& app) {
    add_vertarget_command(app, invocation_);
    add_threads_command(app, invocation_);
    add_stack_command(app, invocation_);
    add_modules_command(app, invocation_);
    add_exception_command(app, invocation_);
    add_registers_command(app, invocation_);
    add_memory_command(app, invocation_);
    add_regions_command(app, invocation_);
    add_handles_command(app, invocation_);
    add_heap_command(app, invocation_);
    add_debug_command(app, invocation_);
    add_analyze_command(app, invocation_);
}

}  // namespace dumpscope
