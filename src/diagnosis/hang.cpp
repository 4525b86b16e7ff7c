// Hang triage: every thread's wait is in the report (DumpSummary.waits, grouped by identical
// stacks); a finding is made only for what is wrong by itself: threads in an uninterruptible
// kernel wait (D state), which no signal can end. Lock waits are locks.cpp's findings; a process
// whose threads all sleep in poll or read is an idle process, not a hang.
#include <fmt/format.h>

#include "diagnosis/detector.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"

namespace dumpscope::diagnosis {

void detect_hang(DumpFacts& facts, std::vector<Finding>& out) {
    Finding f;
    for (const ThreadWait& w : facts.waits) {
        if (w.what != "disk") continue;
        f.threads.push_back(w.tid);
        f.evidence_text += fmt::format("  thread {}: {}\n", w.tid, w.description);
        f.evidence_text += stack_text(facts.frames_of(w.tid), 8);
    }
    if (f.threads.empty()) return;
    f.kind = "hang";
    f.severity = Severity::kWarning;
    f.summary =
        fmt::format("{} thread(s) in an uninterruptible kernel wait (D state)", f.threads.size());
    f.next_step =
        "The kernel is waiting for I/O or a kernel lock: look at `cat /proc/PID/task/TID/stack` "
        "(as root) and at the device or network file system the system call uses.";
    f.evidence = {{"tids", f.threads}};
    out.push_back(std::move(f));
}

}  // namespace dumpscope::diagnosis
