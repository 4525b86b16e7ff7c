// lm / modules: range, name, build-id and symbol status (which file was used and how it was
// found; a file whose build-id differs is reported as mismatched and not used).
#include <elfutils/libdwfl.h>
#include <fmt/format.h>

#include "analysis/command.h"
#include "analysis/symbolizer.h"
#include "common/paths.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

// "dwarf" (functions and lines), "symtab" (functions), "none".
std::string symbol_kind(const ModuleReport& report) {
    if (report.dwfl_module == nullptr) return "none";
    Dwarf_Addr bias = 0;
    if (dwfl_module_getdwarf(report.dwfl_module, &bias) != nullptr) return "dwarf";
    return dwfl_module_getsymtab(report.dwfl_module) > 0 ? "symtab" : "none";
}

}  // namespace

Result<CommandOutput> command_modules(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{"lm takes no arguments"};
    auto session = dump.session();
    if (!session.ok()) return session.error();
    CommandOutput out;
    out.json = nlohmann::json::array();
    out.text = fmt::format("{:<17} {:<17} {:<24} {:<12} {}\n", "start", "end", "module name",
                           "symbols", "build-id / file");
    for (const ModuleReport& report : (*session)->modules()) {
        const Module& m = *report.module;
        const std::string kind = symbol_kind(report);
        const char* status = symbol_status_name(report.files.status);
        std::string file = report.files.elf_path.empty() || report.files.elf_path == m.path
                               ? ""
                               : " -> " + printable_bytes(report.files.elf_path);
        if (!report.debug_path.empty())
            file += " (debug: " + printable_bytes(report.debug_path) + ")";
        out.text +=
            fmt::format("{} {} {:<24} {:<12} {}\n", windbg_pointer(m.base), windbg_pointer(m.end),
                        printable_bytes(base_name(m.path)), fmt::format("{} {}", status, kind),
                        m.build_id.empty() ? "(no build-id)" : hex_build_id(m.build_id));
        out.text += fmt::format("{:<36}   {}{}\n", "", printable_bytes(m.path), file);
        if (!report.files.detail.empty()) {
            out.text += fmt::format("{:<36}   {}\n", "", printable_bytes(report.files.detail));
        }
        out.json.push_back({{"base", m.base},
                            {"end", m.end},
                            {"name", printable_bytes(base_name(m.path))},
                            {"path", printable_bytes(m.path)},
                            {"build_id", hex_build_id(m.build_id)},
                            {"main", m.is_main_executable},
                            {"symbol_status", status},
                            {"symbols", kind},
                            {"file", printable_bytes(report.files.elf_path)},
                            {"found_by", report.files.found_by},
                            {"debug_file", printable_bytes(report.debug_path)},
                            {"detail", printable_bytes(report.files.detail)}});
    }
    return out;
}

}  // namespace dumpscope::analysis
