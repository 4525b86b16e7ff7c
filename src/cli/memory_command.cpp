// `dumpscope memory DUMP ADDR [LEN] [--format b|w|d|q|a] [--json]`: memory as WinDbg's db, dw,
// dd, dq and da print it, ?? for bytes that are not in the dump. ADDR is hexadecimal; LEN counts
// bytes (C syntax: 64 or 0x40; default 128).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_memory_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "memory", "Memory bytes, ?? where the dump has none (WinDbg db/dd/dq/da)");
    add_dump_options(command, invocation);
    auto address = std::make_shared<std::string>();
    auto length = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("b");
    command->add_option("ADDR", *address, "Address, hexadecimal")->required();
    command->add_option("LEN", *length, "Bytes to show (default 128; da: up to the NUL)");
    command->add_option("--format", *format, "b (bytes), w, d, q (2, 4, 8-byte units), a (string)")
        ->check(CLI::IsMember({"b", "w", "d", "q", "a"}));
    command->callback([&invocation, address, length, format] {
        invocation.action = [address, length, format](AnalysisInvocation& inv) {
            analysis::CommandArgs args{"d" + *format, *address};
            if (!length->empty()) args.push_back(*length);
            return run_analysis_command(inv, "memory", analysis::command_memory, args);
        };
    });
}

}  // namespace dumpscope
