// Runaway threads: a thread that is on the CPU and has used most of the time it has existed
// (one dump), or most of the wall time between two dumps of the same process (several dumps).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "diagnosis/detector.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"

namespace dumpscope::diagnosis {

namespace {

constexpr double kBusyShare = 0.5;             // of one CPU
constexpr uint64_t kMinimumCpuNs = 500000000;  // 0.5 s: below it nothing is a runaway

std::string seconds(uint64_t ns) { return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9); }

bool times_known(const Snapshot& s) {
    return std::any_of(s.threads.begin(), s.threads.end(),
                       [](const Thread& t) { return t.user_time_ns + t.kernel_time_ns != 0; });
}

Finding runaway_finding(DumpFacts& facts, const Thread& t, uint64_t cpu_ns, uint64_t wall_ns,
                        const std::string& over) {
    Finding f;
    f.kind = "runaway-thread";
    f.severity = Severity::kWarning;
    f.threads = {t.tid};
    const double share = static_cast<double>(cpu_ns) / static_cast<double>(wall_ns);
    const ThreadWait* wait = facts.wait_of(t.tid);
    f.summary =
        fmt::format("thread {}{} used {} of CPU in {} {} ({:.0f}% of a CPU), {}", t.tid,
                    t.name.empty() ? "" : " \"" + t.name + "\"", seconds(cpu_ns), seconds(wall_ns),
                    over, share * 100, wait ? wait->description : "running");
    const auto& frames = facts.frames_of(t.tid);
    f.evidence_text =
        fmt::format("  user {} kernel {}\n", seconds(t.user_time_ns), seconds(t.kernel_time_ns));
    f.evidence_text += stack_text(frames, 12);
    nlohmann::json stack = nlohmann::json::array();
    for (size_t i = 0; i < frames.size() && i < 16; ++i)
        stack.push_back(frame_json(frame_ref(frames[i])));
    f.evidence = {{"cpu_ns", cpu_ns},
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
    if (!times_known(s) || s.system.boot_time_unix == 0 || s.capture.capture_time_unix == 0) return;
    const uint64_t now_since_boot_ns =
        (s.capture.capture_time_unix -
         std::min(s.capture.capture_time_unix, s.system.boot_time_unix)) *
        1000000000ull;
    for (const Thread& t : s.threads) {
        if (t.state != 'R' || t.syscall.in_syscall) continue;
        const uint64_t cpu = t.user_time_ns + t.kernel_time_ns;
        if (cpu < kMinimumCpuNs || t.start_time_ns_since_boot == 0 ||
            now_since_boot_ns <= t.start_time_ns_since_boot)
            continue;
        // The capture time is in whole seconds: give the thread's age a second of doubt.
        const uint64_t age = now_since_boot_ns - t.start_time_ns_since_boot + 1000000000ull;
        if (static_cast<double>(cpu) >= kBusyShare * static_cast<double>(age))
            out.push_back(runaway_finding(facts, t, cpu, age, "since it started"));
    }
}

void detect_runaway_between(std::vector<DumpFacts>& dumps, std::vector<Finding>& out) {
    // Consecutive dumps of one process (same pid and start time), in the order given.
    for (size_t i = 0; i + 1 < dumps.size(); ++i) {
        const Snapshot& a = dumps[i].snapshot();
        const Snapshot& b = dumps[i + 1].snapshot();
        if (a.process.pid != b.process.pid || a.process.pid == 0 || !times_known(a) ||
            !times_known(b) || b.capture.capture_time_unix <= a.capture.capture_time_unix)
            continue;
        const uint64_t wall =
            (b.capture.capture_time_unix - a.capture.capture_time_unix) * 1000000000ull;
        std::map<int32_t, uint64_t> before;
        for (const Thread& t : a.threads) before[t.tid] = t.user_time_ns + t.kernel_time_ns;
        for (const Thread& t : b.threads) {
            auto it = before.find(t.tid);
            if (it == before.end()) continue;
            const uint64_t now = t.user_time_ns + t.kernel_time_ns;
            const uint64_t used = now > it->second ? now - it->second : 0;
            if (used >= kMinimumCpuNs &&
                static_cast<double>(used) >= kBusyShare * static_cast<double>(wall)) {
                Finding f = runaway_finding(dumps[i + 1], t, used, wall, "between the dumps");
                f.evidence["between"] = {dumps[i].dump->path(), dumps[i + 1].dump->path()};
                out.push_back(std::move(f));
            }
        }
    }
}

}  // namespace dumpscope::diagnosis
