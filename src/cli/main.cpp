// dumpscope: capture and analyze Linux process memory dumps.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/collect_command.h"
#include "cli/info_command.h"
#include "cli/signals.h"
#include "common/version.h"

namespace {

// ProcDump's spellings: -mm (mini), -mp (midi), -ma (full), -o (overwrite).
std::vector<std::string> translate_procdump_aliases(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-mm") a = "--type=mini";
        else if (a == "-mp") a = "--type=midi";
        else if (a == "-ma") a = "--type=full";
        else if (a == "-o") a = "--overwrite";
        args.push_back(a);
    }
    return args;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"dumpscope: capture and analyze Linux process memory dumps"};
    app.set_version_flag("--version", std::string("dumpscope ") + dumpscope::kToolVersion);
    app.require_subcommand(1);
    dumpscope::CollectCommand collect;
    dumpscope::InfoCommand info;
    collect.add_to(app);
    info.add_to(app);

    std::vector<std::string> args = translate_procdump_aliases(argc, argv);
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    try {
        app.parse(static_cast<int>(cargs.size()), cargs.data());
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    dumpscope::install_cancel_handlers();
    if (collect.requested()) return collect.run();
    if (info.requested()) return info.run();
    return 2;
}
