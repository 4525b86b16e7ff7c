#include "diagnosis/debugger_words.h"

#include "analysis/command.h"
#include "diagnosis/heap_commands.h"
#include "diagnosis/report.h"

namespace dumpscope::diagnosis {

namespace {

Result<analysis::CommandOutput> analyze_word(analysis::DumpAnalysis& dump,
                                             const analysis::CommandArgs& args) {
    if (!args.empty() && args[0] != "-v") return Error{"!analyze takes no arguments but -v"};
    const Report report = diagnose({&dump});
    return analysis::CommandOutput{report_text(report), report_json(report)};
}

Result<analysis::CommandOutput> locks_word(analysis::DumpAnalysis& dump,
                                           const analysis::CommandArgs& args) {
    if (!args.empty()) return Error{"!locks takes no arguments"};
    const Report report = diagnose({&dump});
    nlohmann::json json = report_json(report);
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : json["findings"])
        if (f["kind"] == "deadlock" || f["kind"] == "lock-contention") findings.push_back(f);
    nlohmann::json waits = nlohmann::json::array();
    for (const auto& w : json["dumps"][0]["waits"])
        if (w.contains("lock") || w["wait"] == "condvar" || w["wait"] == "futex")
            waits.push_back(w);
    return analysis::CommandOutput{locks_text(report), {{"findings", findings}, {"waits", waits}}};
}

Result<analysis::CommandOutput> runaway_word(analysis::DumpAnalysis& dump,
                                             const analysis::CommandArgs& args) {
    if (!args.empty()) return Error{"!runaway takes no arguments"};
    const Report report = diagnose({&dump});
    nlohmann::json json = report_json(report);
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : json["findings"])
        if (f["kind"] == "runaway-thread") findings.push_back(f);
    return analysis::CommandOutput{
        runaway_text(report),
        {{"findings", findings}, {"threads", json["dumps"][0]["thread_cpu"]}}};
}

}  // namespace

void register_debugger_words() {
    analysis::register_debugger_word("!analyze", analyze_word,
                                     "what went wrong: crash, deadlock, lock waits, hang, runaway");
    analysis::register_debugger_word("!locks", locks_word,
                                     "lock waits with owners; deadlocks and contention");
    analysis::register_debugger_word("!runaway", runaway_word,
                                     "CPU time per thread, top first; runaway threads");
    analysis::register_debugger_word(
        "!heap", command_heap,
        "glibc malloc heap: -s arenas, in-use and free bytes; -stat chunks by size and type");
}

}  // namespace dumpscope::diagnosis
