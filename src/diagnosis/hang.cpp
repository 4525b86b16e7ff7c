// Hang triage: every thread's wait is in the report (DumpSummary.waits, grouped by identical
// stacks); a finding is made only for what is wrong, or may be, by itself:
// - threads in an uninterruptible kernel wait (D state), which no signal can end;
// - every thread of the process in a futex wait with no timeout on a futex private to the process:
//   nothing can wake any of them but a signal, so the process is hung (unless a deadlock finding
//   already names the cycle);
// - two or more threads waiting with no timeout on objects that record no holder (semaphores,
//   CPython's locks, bare futexes): a deadlock among them can neither be shown nor ruled out from
//   memory, so it is said, as information, instead of "no problems".
// Lock waits with owners are locks.cpp's findings; threads sleeping in poll or read, or on
// condition variables, while others run are an idle process, not a hang.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "diagnosis/detector.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"

namespace dumpscope::diagnosis {

namespace {

constexpr size_t kFramesShown = 8;
constexpr size_t kThreadsShown = 32;

bool waits_forever(const ThreadWait& w) { return w.syscall == "futex" && w.no_timeout; }

bool records_no_holder(const ThreadWait& w) {
    return waits_forever(w) && (w.what == "semaphore" || w.what == "futex");
}

// A `hang` finding of these threads' waits, its evidence a line and a short stack each (the
// first kThreadsShown) and the JSON list of what each one waits on; the caller says the rest.
Finding wait_finding(DumpFacts& facts, const std::vector<const ThreadWait*>& waits,
                     Severity severity) {
    Finding f;
    f.kind = "hang";
    f.severity = severity;
    nlohmann::json list = nlohmann::json::array();
    for (const ThreadWait* w : waits) {
        f.threads.push_back(w->tid);
        list.push_back({{"tid", w->tid},
                        {"wait", w->what},
                        {"futex", fmt::format("{:#x}", w->futex)},
                        {"description", w->description}});
        if (f.threads.size() > kThreadsShown) continue;
        f.evidence_text += fmt::format("  thread {}: {}\n", w->tid, w->description);
        f.evidence_text += stack_text(facts.frames_of(w->tid), kFramesShown);
    }
    if (waits.size() > kThreadsShown)
        f.evidence_text += fmt::format("  ... and {} more\n", waits.size() - kThreadsShown);
    f.evidence = {{"tids", f.threads}, {"waits", list}};
    return f;
}

void detect_disk_waits(DumpFacts& facts, std::vector<Finding>& out) {
    Finding f;
    for (const ThreadWait& w : facts.waits) {
        if (w.what != "disk") continue;
        f.threads.push_back(w.tid);
        f.evidence_text += fmt::format("  thread {}: {}\n", w.tid, w.description);
        f.evidence_text += stack_text(facts.frames_of(w.tid), kFramesShown);
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

// True when every thread sleeps on a private futex with no timeout. A deadlock finding already
// explains such a process.
bool all_stuck(const DumpFacts& facts, const std::vector<Finding>& found) {
    if (facts.waits.empty()) return false;
    for (const ThreadWait& w : facts.waits)
        if (!waits_forever(w) || !w.private_futex) return false;
    return std::none_of(found.begin(), found.end(),
                        [](const Finding& f) { return f.kind == "deadlock"; });
}

void detect_all_stuck(DumpFacts& facts, std::vector<Finding>& out) {
    std::vector<const ThreadWait*> waits;
    for (const ThreadWait& w : facts.waits) waits.push_back(&w);
    Finding f = wait_finding(facts, waits, Severity::kError);
    f.summary = fmt::format(
        "all {} thread(s) wait with no timeout on futexes of this process (locks, semaphores, "
        "condition variables): nothing in the process can wake them, only a signal",
        waits.size());
    f.next_step =
        "The process is hung. Semaphores and condition variables name no holder or signaller: "
        "find in the stacks above which thread was to release or signal each word (threads "
        "waiting on one futex wait on one object). For CPython, a Python-level stack (py-spy "
        "dump) names the lock objects.";
    out.push_back(std::move(f));
}

void detect_ownerless_waits(DumpFacts& facts, std::vector<Finding>& out) {
    std::vector<const ThreadWait*> waits;
    std::set<uint64_t> words;
    for (const ThreadWait& w : facts.waits) {
        if (!records_no_holder(w)) continue;
        waits.push_back(&w);
        words.insert(w.futex);
    }
    if (waits.size() < 2 || words.size() < 2) return;  // a deadlock takes two threads, two locks
    Finding f = wait_finding(facts, waits, Severity::kInfo);
    f.summary = fmt::format(
        "{} threads wait with no timeout on {} semaphores or futexes that record no holder: "
        "idle, or a deadlock the dump cannot show",
        waits.size(), words.size());
    f.next_step =
        "If the process is stuck: these objects do not record who holds them (CPython's "
        "threading.Lock is a semaphore), so no wait-for graph can be drawn. Look in the program's "
        "own frames for where each thread took the lock another one waits for, or take a second "
        "dump a little later: a thread that waits on another word there was not deadlocked.";
    out.push_back(std::move(f));
}

}  // namespace

void detect_hang(DumpFacts& facts, std::vector<Finding>& out) {
    detect_disk_waits(facts, out);
    if (all_stuck(facts, out)) {
        detect_all_stuck(facts, out);
    } else {
        detect_ownerless_waits(facts, out);
    }
}

}  // namespace dumpscope::diagnosis
