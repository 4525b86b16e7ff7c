// `dumpscope registers DUMP [--thread TID] [REG...] [--json]`: registers (WinDbg r).
#include <fmt/format.h>

#include "cli/analysis_cli.h"

namespace dumpscope {

void add_registers_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand("registers", "Registers of a thread (WinDbg r)");
    add_dump_options(command, invocation);
    auto tid = std::make_shared<int32_t>(0);
    auto names = std::make_shared<std::vector<std::string>>();
    command->add_option("--thread", *tid,
                        "The thread with this id (default: the thread of the "
                        "exception, else the first)");
    command->add_option("REG", *names, "Only these registers (rax, rip, fs_base, ...)");
    command->callback([&invocation, tid, names] {
        invocation.action = [tid, names](AnalysisInvocation& inv) {
            auto dump = open_for(inv, "registers");
            if (!dump.ok()) {
                fmt::print(stderr, "dumpscope registers: {}\n", dump.error().message);
                return 1;
            }
            if (*tid != 0) {
                auto index = (*dump)->thread_index(*tid);
                if (!index) {
                    fmt::print(stderr, "dumpscope registers: no thread {} in the dump\n", *tid);
                    return 1;
                }
                (*dump)->select_thread(*index);
            }
            auto output = analysis::command_registers(**dump, *names);
            if (!output.ok()) {
                fmt::print(stderr, "dumpscope registers: {}\n", output.error().message);
                return 1;
            }
            fmt::print("{}", inv.json
                                 ? output->json.dump(2, ' ', false,
                                                     nlohmann::json::error_handler_t::replace) +
                                       "\n"
                                 : output->text);
            return 0;
        };
    });
}

}  // namespace dumpscope
