// Runaway threads: a thread on the CPU that used most of its process's CPU (one dump: since the
// threads started; several dumps of one process: between two of them). A warning when it used
// half a CPU or more of the wall time, else info (a loaded machine gives a spinning thread less).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "diagnosis/detector.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"

namespace dumpscope::diagnosis {

namespace {

constexpr double kBusyShare = 0.5;             // of one CPU: above it, a warning
constexpr double kProcessShare = 0.5;          // of the process's CPU: below it, not a runaway
constexpr uint64_t kMinimumCpuNs = 500000000;  // 0.5 s: below it nothing is a runaway

std::string seconds(uint64_t ns) { return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9); }

bool times_known(const Snapshot& s) {
    return std::any_of(s.threads.begin(), s.threads.end(),
                       [](const Thread& t) { return t.user_time_ns + t.kernel_time_ns != 0; });
}

// wall_ns 0: unknown (the dump does not record when the thread started).
Finding runaway_finding(DumpFacts& facts, const Thread& t, uint64_t cpu_ns, uint64_t process_ns,
                        uint64_t wall_ns, const std::string& over) {
    Finding f;
    f.kind = "runaway-thread";
    f.threads = {t.tid};
    const double share =
        wall_ns == 0 ? 0 : static_cast<double>(cpu_ns) / static_cast<double>(wall_ns);
    const double of_process = static_cast<double>(cpu_ns) / static_cast<double>(process_ns);
    // On a loaded machine a spinning thread gets less than a CPU: it is still the process's
    // runaway, but only a CPU share of half or more makes it a warning.
    f.severity = share >= kBusyShare ? Severity::kWarning : Severity::kInfo;
    const ThreadWait* wait = facts.wait_of(t.tid);
    f.summary = fmt::format(
        "thread {}{} used {} of CPU {} ({:.0f}% of the process's CPU{}), {}", t.tid,
        t.name.empty() ? "" : " \"" + t.name + "\"", seconds(cpu_ns), over, of_process * 100,
        wall_ns == 0 ? ""
                     : fmt::format(", {:.0f}% of a CPU over {}", share * 100, seconds(wall_ns)),
        wait ? wait->description : "running");
    const auto& frames = facts.frames_of(t.tid);
    f.evidence_text =
        fmt::format("  user {} kernel {}\n", seconds(t.user_time_ns), seconds(t.kernel_time_ns));
    f.evidence_text += stack_text(frames, 12);
    nlohmann::json stack = nlohmann::json::array();
    for (size_t i = 0; i < frames.size() && i < 16; ++i)
        stack.push_back(frame_json(frame_ref(frames[i])));
    f.evidence = {{"cpu_ns", cpu_ns},
                  {"process_cpu_ns", process_ns},
                  {"wall_ns", wall_ns},
                  {"cpu_share", share},
                  {"user_time_ns", t.user_time_ns},
                  {"kernel_time_ns", t.kernel_time_ns},
                  {"frames", stack}};
    f.next_step =
        "Look at where the thread is (its stack above) and take a second dump a few seconds "
        "later: the frames that stay are the loop. `dumpscope analyze DUMP1 DUMP2` gives the CPU "
        "each thread used between them.";
    return f;
}

}  // namespace

void detect_runaway(DumpFacts& facts, std::vector<Finding>& out) {
    const Snapshot& s = facts.snapshot();
    if (!times_known(s)) return;
    uint64_t process_ns = 0;
    for (const Thread& t : s.threads) process_ns += t.user_time_ns + t.kernel_time_ns;
    const uint64_t now_since_boot_ns =
        s.system.boot_time_unix != 0 && s.capture.capture_time_unix > s.system.boot_time_unix
            ? (s.capture.capture_time_unix - s.system.boot_time_unix) * 1000000000ull
            : 0;
    for (const Thread& t : s.threads) {
        // Only a thread on the CPU, in its own code, that used most of the process's CPU.
        if (t.state != 'R' || t.syscall.in_syscall) continue;
        const uint64_t cpu = t.user_time_ns + t.kernel_time_ns;
        if (cpu < kMinimumCpuNs ||
            static_cast<double>(cpu) < kProcessShare * static_cast<double>(process_ns))
            continue;
        // The capture time is in whole seconds: give the thread's age a second of doubt.
        const uint64_t age =
            now_since_boot_ns > t.start_time_ns_since_boot && t.start_time_ns_since_boot != 0
                ? now_since_boot_ns - t.start_time_ns_since_boot + 1000000000ull
                : 0;
        out.push_back(runaway_finding(facts, t, cpu, process_ns, age, "since it started"));
    }
}

void detect_runaway_between(std::vector<DumpFacts>& dumps, std::vector<Finding>& out) {
    // Consecutive dumps of one process (same pid), in the order given.
    for (size_t i = 0; i + 1 < dumps.size(); ++i) {
        const Snapshot& a = dumps[i].snapshot();
        const Snapshot& b = dumps[i + 1].snapshot();
        if (a.process.pid != b.process.pid || a.process.pid == 0 || !times_known(a) ||
            !times_known(b) || b.capture.capture_time_unix < a.capture.capture_time_unix)
            continue;
        const uint64_t wall =
            (b.capture.capture_time_unix - a.capture.capture_time_unix) * 1000000000ull;
        std::map<int32_t, uint64_t> before;
        for (const Thread& t : a.threads) before[t.tid] = t.user_time_ns + t.kernel_time_ns;
        std::map<int32_t, uint64_t> used;
        uint64_t process_used = 0;
        for (const Thread& t : b.threads) {
            auto it = before.find(t.tid);
            const uint64_t now = t.user_time_ns + t.kernel_time_ns;
            const uint64_t then = it == before.end() ? 0 : it->second;
            used[t.tid] = now > then ? now - then : 0;
            process_used += used[t.tid];
        }
        for (const Thread& t : b.threads) {
            const uint64_t cpu = used[t.tid];
            if (cpu < kMinimumCpuNs ||
                static_cast<double>(cpu) < kProcessShare * static_cast<double>(process_used))
                continue;
            Finding f =
                runaway_finding(dumps[i + 1], t, cpu, process_used, wall, "between the dumps");
            f.evidence["between"] = {dumps[i].dump->path(), dumps[i + 1].dump->path()};
            out.push_back(std::move(f));
        }
    }
}

}  // namespace dumpscope::diagnosis
