// Runs the detectors over the dumps and gathers the report: findings (sorted), the signature,
// and per dump what every thread waits on, grouped by identical stacks, and CPU per thread.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "diagnosis/detector.h"
#include "diagnosis/frames.h"
#include "diagnosis/report.h"

namespace dumpscope::diagnosis {

const ThreadWait* DumpFacts::wait_of(int32_t tid) const {
    for (const ThreadWait& w : waits)
        if (w.tid == tid) return &w;
    return nullptr;
}

const std::vector<analysis::Frame>& DumpFacts::frames_of(int32_t tid) {
    auto index = dump->thread_index(tid);
    if (!index) return no_frames_;
    auto stack = dump->stack(*index);
    if (!stack.ok()) return no_frames_;
    return (*stack)->frames;
}

const std::vector<Detector>& detectors() {
    static const std::vector<Detector> kDetectors = {
        {"crash", detect_crash, nullptr},
        {"locks", detect_locks, nullptr},
        {"hang", detect_hang, nullptr},
        {"runaway", detect_runaway, nullptr},
        {"runaway-between-dumps", nullptr, detect_runaway_between},
        {"memory", detect_memory, nullptr},
        {"memory-growth-between-dumps", nullptr, detect_memory_growth},
    };
    return kDetectors;
}

namespace {

constexpr size_t kWaitCallerFrames = 8;

// The functions of the innermost frames, inlined ones first, for classify_wait.
WaitCallers wait_callers(const std::vector<analysis::Frame>& frames) {
    WaitCallers names;
    for (size_t i = 0; i < frames.size() && i < kWaitCallerFrames; ++i) {
        for (const analysis::InlineCall& call : frames[i].inlines) names.push_back(call.function);
        if (!frames[i].function.empty()) names.push_back(frames[i].function);
    }
    return names;
}

// The key of a stack for grouping: module and function (or module offset) of every frame.
std::string stack_key(const std::vector<analysis::Frame>& frames) {
    std::string key;
    for (const analysis::Frame& f : frames) {
        key += f.module + "!" +
               (f.function.empty() ? fmt::format("{:#x}", f.module_offset()) : f.function) + "\n";
    }
    return key;
}

DumpSummary summarize(DumpFacts& facts) {
    const Snapshot& s = facts.snapshot();
    DumpSummary d;
    d.path = facts.dump->path();
    d.format = facts.dump->format();
    d.pid = s.process.pid;
    d.process_name = s.process.name;
    d.dump_type = s.capture.dump_type;
    d.waits = facts.waits;
    std::map<std::string, size_t> group_of;
    for (const Thread& t : s.threads) {
        const auto& frames = facts.frames_of(t.tid);
        const std::string key = stack_key(frames);
        auto [it, added] = group_of.emplace(key, d.stack_groups.size());
        if (added) {
            StackGroup g;
            const ThreadWait* w = facts.wait_of(t.tid);
            g.wait = w ? w->description : "";
            for (const analysis::Frame& f : frames) g.frames.push_back(frame_ref(f));
            d.stack_groups.push_back(std::move(g));
        }
        d.stack_groups[it->second].tids.push_back(t.tid);
        d.cpu.push_back({t.tid, t.name, t.state, t.user_time_ns, t.kernel_time_ns});
        if (t.user_time_ns + t.kernel_time_ns != 0) d.cpu_known = true;
    }
    std::stable_sort(
        d.stack_groups.begin(), d.stack_groups.end(),
        [](const StackGroup& a, const StackGroup& b) { return a.tids.size() > b.tids.size(); });
    std::stable_sort(d.cpu.begin(), d.cpu.end(), [](const ThreadCpu& a, const ThreadCpu& b) {
        return a.user_ns + a.kernel_ns > b.user_ns + b.kernel_ns;
    });
    // What this dump lacks for the findings.
    const bool lock_word_missing =
        std::any_of(facts.waits.begin(), facts.waits.end(),
                    [](const ThreadWait& w) { return w.memory_missing; });
    if (lock_word_missing)
        d.notes.emplace_back(
            "the memory some system calls point to (a lock word, a pollfd array) is not in this "
            "dump: take it again with this version's --type mini or --type midi");
    const bool fd_waits = std::any_of(facts.waits.begin(), facts.waits.end(),
                                      [](const ThreadWait& w) { return !w.fds.empty(); });
    if (fd_waits && s.fds.empty())
        d.notes.emplace_back(
            "the descriptor table is not in this dump (which file or socket each fd is): take "
            "--type midi or add --flags WithHandleData");
    if (s.exception &&
        std::none_of(s.mappings.begin(), s.mappings.end(), [](const Mapping& m) { return m.exec; }))
        d.notes.emplace_back("the dump has no memory map: crash classes that need it are guesses");
    d.notes.insert(d.notes.end(), facts.notes.begin(), facts.notes.end());
    return d;
}

}  // namespace

Report diagnose(const std::vector<analysis::DumpAnalysis*>& dumps) {
    Report report;
    std::vector<DumpFacts> facts;
    for (analysis::DumpAnalysis* dump : dumps) {
        DumpFacts f;
        f.dump = dump;
        for (const Thread& t : dump->snapshot().threads)
            f.waits.push_back(classify_wait(dump->snapshot(), t, wait_callers(f.frames_of(t.tid))));
        facts.push_back(std::move(f));
    }
    const bool several = dumps.size() > 1;
    for (DumpFacts& f : facts) {
        std::vector<Finding> found;
        for (const Detector& d : detectors())
            if (d.per_dump != nullptr) d.per_dump(f, found);
        for (Finding& finding : found) {
            if (several) finding.dump = f.dump->path();
            report.findings.push_back(std::move(finding));
        }
        report.dumps.push_back(summarize(f));
    }
    if (several) {
        std::vector<Finding> across;
        for (const Detector& d : detectors())
            if (d.across_dumps != nullptr) d.across_dumps(facts, across);
        // A thread named between two dumps replaces its single-dump finding in the later one.
        std::set<std::pair<std::string, std::string>> covered;
        for (Finding& finding : across) {
            finding.dump = finding.evidence.contains("between")
                               ? finding.evidence["between"][1].get<std::string>()
                               : std::string();
            if (!finding.threads.empty())
                covered.insert({finding.dump, finding.kind + std::to_string(finding.threads[0])});
        }
        std::erase_if(report.findings, [&](const Finding& finding) {
            return !finding.threads.empty() &&
                   covered.count(
                       {finding.dump, finding.kind + std::to_string(finding.threads[0])}) != 0;
        });
        for (Finding& finding : across) report.findings.push_back(std::move(finding));
    }
    sort_findings(report.findings);
    for (const Finding& finding : report.findings) {
        if (finding.crash) {
            report.signature = finding.crash->signature;
            break;
        }
    }
    if (report.signature.empty()) {
        // A deadlock groups by the own-code frames its threads wait in.
        for (const Finding& finding : report.findings) {
            if (finding.kind != "deadlock" || !finding.evidence.contains("cycle")) continue;
            std::vector<std::string> parts;
            for (size_t i = 0; i < facts.size(); ++i) {
                if (finding.dump.empty() ? i != 0 : facts[i].dump->path() != finding.dump) continue;
                for (int32_t tid : finding.threads) {
                    const auto& frames = facts[i].frames_of(tid);
                    auto own = first_own_frame(frames);
                    if (own)
                        parts.push_back(crash_signature(
                            {frames.begin() + static_cast<ptrdiff_t>(*own), frames.end()}));
                }
            }
            std::sort(parts.begin(), parts.end());
            std::string joined = "deadlock";
            for (const std::string& p : parts) joined += " | " + p;
            report.signature = joined;
            break;
        }
    }
    return report;
}

}  // namespace dumpscope::diagnosis
