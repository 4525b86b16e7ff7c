// The report as text (findings first, most severe first, then every thread's wait grouped by
// stack) and as JSON (docs/analyze.md).
#include "diagnosis/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "diagnosis/frames.h"
#include "procfs/thread_state.h"

namespace dumpscope::diagnosis {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

nlohmann::json lock_json(const LockInfo& lock) {
    return {
        {"address", hex(lock.address)},
        {"symbol", lock.symbol.empty() ? nlohmann::json(nullptr) : nlohmann::json(lock.symbol)},
        {"kind", lock.kind},
        {"owner_tid", lock.owner_tid ? nlohmann::json(*lock.owner_tid) : nlohmann::json(nullptr)},
        {"waiter_tids", lock.waiter_tids}};
}

nlohmann::json crash_json(const CrashInfo& c) {
    return {{"signal", c.signal_name},
            {"signal_number", c.signal},
            {"code", c.code_name},
            {"class", c.cls},
            {"message", c.message},
            {"address", hex(c.address)},
            {"access", c.access.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.access)},
            {"crashing_thread", c.tid},
            {"instruction",
             c.instruction.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.instruction)},
            {"frame", c.frame ? frame_json(*c.frame) : nlohmann::json(nullptr)},
            {"signature", c.signature}};
}

nlohmann::json wait_json(const ThreadWait& w) {
    nlohmann::json j = {
        {"tid", w.tid},
        {"wait", w.what},
        {"syscall", w.syscall.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.syscall)},
        {"description", w.description},
        {"fds", w.fds}};
    if (w.lock) {
        j["lock"] = {{"address", hex(w.lock->address)},
                     {"kind", w.lock->kind},
                     {"owner_tid", w.lock->owner_tid ? nlohmann::json(*w.lock->owner_tid)
                                                     : nlohmann::json(nullptr)}};
    }
    if (w.child_pid) j["child_pid"] = *w.child_pid;
    if (w.syscall == "futex") {
        j["futex"] = hex(w.futex);
        j["no_timeout"] = w.no_timeout;
    }
    return j;
}

std::string finding_text(const Finding& f, size_t number) {
    std::string out =
        fmt::format("{}. [{}] {}: {}\n", number, severity_name(f.severity), f.kind, f.summary);
    if (!f.dump.empty()) out += fmt::format("  dump: {}\n", f.dump);
    if (f.crash && !f.crash->instruction.empty())
        out += fmt::format("  faulting instruction: {}\n", f.crash->instruction);
    out += f.evidence_text;
    if (!f.next_step.empty()) out += fmt::format("  next: {}\n", f.next_step);
    return out;
}

std::string cpu_text(uint64_t ns) { return fmt::format("{:.2f}s", static_cast<double>(ns) / 1e9); }

}  // namespace

nlohmann::json report_json(const Report& report) {
    nlohmann::json findings = nlohmann::json::array();
    for (const Finding& f : report.findings) {
        nlohmann::json j = {{"kind", f.kind},         {"severity", severity_name(f.severity)},
                            {"summary", f.summary},   {"threads", f.threads},
                            {"evidence", f.evidence}, {"next_step", f.next_step}};
        if (!f.locks.empty()) {
            j["locks"] = nlohmann::json::array();
            for (const LockInfo& lock : f.locks) j["locks"].push_back(lock_json(lock));
        }
        if (f.crash) j["crash"] = crash_json(*f.crash);
        if (!f.dump.empty()) j["dump"] = f.dump;
        findings.push_back(std::move(j));
    }
    nlohmann::json dumps = nlohmann::json::array();
    for (const DumpSummary& d : report.dumps) {
        nlohmann::json waits = nlohmann::json::array();
        for (const ThreadWait& w : d.waits) waits.push_back(wait_json(w));
        nlohmann::json groups = nlohmann::json::array();
        for (const StackGroup& g : d.stack_groups) {
            nlohmann::json frames = nlohmann::json::array();
            for (const FrameRef& f : g.frames) frames.push_back(frame_json(f));
            groups.push_back(
                {{"count", g.tids.size()}, {"tids", g.tids}, {"wait", g.wait}, {"frames", frames}});
        }
        nlohmann::json cpu = nlohmann::json::array();
        for (const ThreadCpu& c : d.cpu) {
            cpu.push_back({{"tid", c.tid},
                           {"name", c.name},
                           {"state", std::string(1, c.state)},
                           {"user_time_ns", c.user_ns},
                           {"kernel_time_ns", c.kernel_ns}});
        }
        dumps.push_back({{"path", d.path},
                         {"format", d.format},
                         {"pid", d.pid},
                         {"process_name", d.process_name},
                         {"dump_type", d.dump_type},
                         {"waits", waits},
                         {"stack_groups", groups},
                         {"thread_cpu", d.cpu_known ? cpu : nlohmann::json(nullptr)},
                         {"notes", d.notes}});
    }
    return {{"signature", report.signature}, {"findings", findings}, {"dumps", dumps}};
}

std::string report_text(const Report& report) {
    std::string out;
    const bool problems =
        std::any_of(report.findings.begin(), report.findings.end(),
                    [](const Finding& f) { return f.severity != Severity::kInfo; });
    if (report.findings.empty()) {
        out += "No problems found.\n";
    } else if (!problems) {
        // Information only (memory usage, a thread that used some CPU): nothing is wrong, or
        // nothing can be shown to be (waits on objects that record no holder).
        const bool unproven = std::any_of(report.findings.begin(), report.findings.end(),
                                          [](const Finding& f) { return f.kind == "hang"; });
        out += fmt::format("{} {} finding(s) for information:\n\n",
                           unproven ? "No problem proven." : "No problems found.",
                           report.findings.size());
        for (size_t i = 0; i < report.findings.size(); ++i)
            out += finding_text(report.findings[i], i + 1) + "\n";
    } else {
        out += fmt::format("{} finding(s), most severe first:\n\n", report.findings.size());
        for (size_t i = 0; i < report.findings.size(); ++i)
            out += finding_text(report.findings[i], i + 1) + "\n";
        if (!report.signature.empty()) out += fmt::format("Signature: {}\n\n", report.signature);
    }
    for (const DumpSummary& d : report.dumps) {
        out += fmt::format("{} ({}, {} dump): process {} \"{}\", {} thread(s)\n", d.path, d.format,
                           d.dump_type.empty() ? "unknown" : d.dump_type, d.pid, d.process_name,
                           d.waits.size());
        out += "Threads by stack:\n";
        for (const StackGroup& g : d.stack_groups) {
            std::string tids;
            for (size_t i = 0; i < g.tids.size() && i < 16; ++i) {
                if (i != 0) tids += ',';
                tids += std::to_string(g.tids[i]);
            }
            if (g.tids.size() > 16) tids += ",...";
            out += fmt::format("  {} x [{}] {}\n", g.tids.size(), tids, g.wait);
            for (size_t i = 0; i < g.frames.size() && i < 6; ++i)
                out += fmt::format("      {}\n", frame_text(g.frames[i]));
        }
        for (const std::string& note : d.notes) out += fmt::format("Note: {}\n", note);
        out += "\n";
    }
    return out;
}

std::string locks_text(const Report& report) {
    std::string out;
    size_t waits = 0;
    for (const DumpSummary& d : report.dumps) {
        for (const ThreadWait& w : d.waits) {
            if (!w.lock && w.what != "condvar" && w.what != "futex") continue;
            out += fmt::format("  thread {}: {}\n", w.tid, w.description);
            ++waits;
        }
    }
    out = waits == 0 ? "No thread waits on a lock.\n"
                     : fmt::format("{} thread(s) wait on futexes:\n", waits) + out;
    size_t number = 0;
    for (const Finding& f : report.findings) {
        if (f.kind != "deadlock" && f.kind != "lock-contention") continue;
        out += '\n';
        out += finding_text(f, ++number);
    }
    return out;
}

std::string runaway_text(const Report& report) {
    std::string out;
    for (const DumpSummary& d : report.dumps) {
        if (!d.cpu_known) {
            out += "The dump records no CPU times per thread.\n";
            continue;
        }
        out += " User Time   Kernel Time   Thread\n";
        for (const ThreadCpu& c : d.cpu) {
            out += fmt::format("{:>10}  {:>12}   {} \"{}\" ({})\n", cpu_text(c.user_ns),
                               cpu_text(c.kernel_ns), c.tid, c.name, thread_state_word(c.state));
        }
    }
    size_t number = 0;
    for (const Finding& f : report.findings) {
        if (f.kind != "runaway-thread") continue;
        out += '\n';
        out += finding_text(f, ++number);
    }
    return out;
}

}  // namespace dumpscope::diagnosis
