// Deadlocks and lock waits: the wait-for graph of the threads blocked on locks (each waiter ->
// the lock's owner, from glibc's layouts: thread_wait.cpp). A cycle is a deadlock; a chain
// that ends at a thread not waiting on a lock is contention, and the finding says what that
// owner is doing (001: "not a deadlock, the owner is busy").
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "diagnosis/detector.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"
#include "procfs/thread_state.h"

namespace dumpscope::diagnosis {

namespace {

constexpr size_t kStackFramesShown = 12;

std::string seconds(uint64_t ns) { return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9); }

std::string thread_label(const Snapshot& s, int32_t tid) {
    const Thread* t = thread_by_tid(s, tid);
    return t == nullptr || t->name.empty() ? fmt::format("thread {}", tid)
                                           : fmt::format("thread {} \"{}\"", tid, t->name);
}

// "g_mutex_a (0x55d0c0a04040)", "heap 0x5581d2c0 ", ...
std::string lock_name(const LockInfo& lock, const std::string& region) {
    if (!lock.symbol.empty())
        return fmt::format("{} {} ({:#x})", lock.kind, lock.symbol, lock.address);
    return fmt::format("{} {:#x} ({})", lock.kind, lock.address, region);
}

nlohmann::json stack_json(DumpFacts& facts, int32_t tid) {
    nlohmann::json frames = nlohmann::json::array();
    const auto& all = facts.frames_of(tid);
    for (size_t i = 0; i < all.size() && i < kStackFramesShown; ++i)
        frames.push_back(frame_json(frame_ref(all[i])));
    return frames;
}

// What a lock owner is doing: state, system call and descriptors, CPU time. (clang-tidy sees
// nlohmann::json's special members as throwing; an Activity is never used where that matters.)
struct Activity {  // NOLINT(bugprone-exception-escape)
    std::string text;
    nlohmann::json json;
};

Activity owner_activity(DumpFacts& facts, int32_t tid) {
    const Snapshot& s = facts.snapshot();
    const Thread* t = thread_by_tid(s, tid);
    Activity a;
    if (t == nullptr) {
        a.text = fmt::format("thread {} is not in the process: it exited holding the lock", tid);
        a.json = {{"tid", tid}, {"exists", false}};
        return a;
    }
    const ThreadWait* wait = facts.wait_of(tid);
    const std::string doing = wait == nullptr ? "" : wait->description;
    a.text = fmt::format("{} is {} ({})", thread_label(s, tid), thread_state_word(t->state), doing);
    if (t->user_time_ns != 0 || t->kernel_time_ns != 0)
        a.text += fmt::format(", CPU user {} kernel {}", seconds(t->user_time_ns),
                              seconds(t->kernel_time_ns));
    nlohmann::json fds = nlohmann::json::array();
    if (wait != nullptr) {
        for (int32_t fd : wait->fds) {
            nlohmann::json f = {{"fd", fd}};
            for (const FileDescriptor& d : s.fds)
                if (d.fd == fd) f["target"] = d.target;
            fds.push_back(f);
        }
    }
    a.json = {{"tid", tid},
              {"name", t->name},
              {"state", std::string(1, t->state)},
              {"state_name", thread_state_word(t->state)},
              {"doing", doing},
              {"syscall", wait == nullptr || wait->syscall.empty() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(wait->syscall)},
              {"fds", fds},
              {"user_time_ns", t->user_time_ns},
              {"kernel_time_ns", t->kernel_time_ns},
              {"frames", stack_json(facts, tid)}};
    return a;
}

LockInfo lock_info(DumpFacts& facts, const LockWait& wait) {
    LockInfo info;
    info.address = wait.address;
    info.kind = wait.kind;
    info.owner_tid = wait.owner_tid;
    if (wait.kind != "join") info.symbol = symbol_at(*facts.dump, wait.address);
    for (const ThreadWait& w : facts.waits)
        if (w.lock && w.lock->address == wait.address) info.waiter_tids.push_back(w.tid);
    return info;
}

// The cycles of the wait-for graph, each rotated to start at its smallest tid.
std::vector<std::vector<int32_t>> find_cycles(const std::map<int32_t, const LockWait*>& edges) {
    std::set<std::vector<int32_t>> cycles;
    for (const auto& [start, first] : edges) {
        std::vector<int32_t> path;
        int32_t at = start;
        for (size_t step = 0; step <= edges.size(); ++step) {
            auto seen = std::find(path.begin(), path.end(), at);
            if (seen != path.end()) {
                std::vector<int32_t> cycle(seen, path.end());
                std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()),
                            cycle.end());
                cycles.insert(cycle);
                break;
            }
            path.push_back(at);
            auto next = edges.find(at);
            if (next == edges.end() || !next->second->owner_tid) break;
            at = *next->second->owner_tid;
        }
    }
    return {cycles.begin(), cycles.end()};
}

void report_deadlock(DumpFacts& facts, const std::vector<int32_t>& cycle,
                     const std::map<int32_t, const LockWait*>& edges, std::vector<Finding>& out) {
    const Snapshot& s = facts.snapshot();
    Finding f;
    f.kind = "deadlock";
    f.severity = Severity::kError;
    f.threads = cycle;
    std::vector<std::string> names;
    nlohmann::json chain = nlohmann::json::array();
    for (int32_t tid : cycle) {
        const LockWait& wait = *edges.at(tid);
        LockInfo info = lock_info(facts, wait);
        const std::string region = region_at(s, wait.address);
        const std::string name = lock_name(info, region);
        names.push_back(info.symbol.empty() ? fmt::format("{:#x}", info.address) : info.symbol);
        f.evidence_text += fmt::format("  {} waits for {} held by {}\n", thread_label(s, tid), name,
                                       thread_label(s, wait.owner_tid.value_or(0)));
        f.evidence_text += stack_text(facts.frames_of(tid), kStackFramesShown);
        chain.push_back({{"tid", tid},
                         {"waits_for", fmt::format("{:#x}", info.address)},
                         {"lock_region", region},
                         {"held_by", wait.owner_tid.value_or(0)},
                         {"frames", stack_json(facts, tid)}});
        f.locks.push_back(std::move(info));
    }
    // Threads blocked behind the cycle (waiting, directly or through others, on its threads).
    std::vector<int32_t> behind;
    for (const auto& [tid, wait] : edges) {
        if (std::find(cycle.begin(), cycle.end(), tid) != cycle.end()) continue;
        int32_t at = tid;
        for (size_t step = 0; step <= edges.size(); ++step) {
            auto next = edges.find(at);
            if (next == edges.end() || !next->second->owner_tid) break;
            at = *next->second->owner_tid;
            if (std::find(cycle.begin(), cycle.end(), at) != cycle.end()) {
                behind.push_back(tid);
                f.evidence_text +=
                    fmt::format("  also blocked behind it: {} ({})\n", thread_label(s, tid),
                                facts.wait_of(tid)->description);
                break;
            }
        }
    }
    std::string lock_list;
    for (size_t i = 0; i < names.size(); ++i) lock_list += (i == 0 ? "" : ", ") + names[i];
    f.summary = fmt::format("{} threads each hold a lock the next one waits for ({})", cycle.size(),
                            lock_list);
    f.next_step =
        "Make every thread take these locks in one global order (the stacks show where each "
        "one was taken and where it waits), or hold one of them for less.";
    f.evidence = {{"cycle", chain}, {"blocked_behind", behind}};
    out.push_back(std::move(f));
}

void report_contention(DumpFacts& facts, const LockWait& lock,
                       const std::map<int32_t, const LockWait*>& edges, std::vector<Finding>& out) {
    const Snapshot& s = facts.snapshot();
    Finding f;
    f.kind = "lock-contention";
    f.severity = Severity::kWarning;
    LockInfo info = lock_info(facts, lock);
    const std::string region = region_at(s, lock.address);
    f.threads = info.waiter_tids;
    const std::string name = lock_name(info, region);
    // Follow the owner through the locks it waits for itself, to the thread that runs.
    std::vector<int32_t> chain;
    std::optional<int32_t> owner = lock.owner_tid;
    while (owner && chain.size() <= edges.size()) {
        chain.push_back(*owner);
        auto next = edges.find(*owner);
        if (next == edges.end() || next->second->kind == "join") break;
        owner = next->second->owner_tid;
    }
    std::string held_by;
    nlohmann::json owner_json = nullptr;
    if (!lock.owner_tid) {
        held_by = lock.readers != 0
                      ? fmt::format("{} reader(s) (readers are not named)", lock.readers)
                      : "an owner the lock does not record";
    } else {
        const Activity activity = owner_activity(facts, chain.back());
        owner_json = activity.json;
        if (thread_by_tid(s, *lock.owner_tid) == nullptr) {
            f.severity = Severity::kError;
            held_by = activity.text;
        } else if (chain.size() > 1) {
            held_by =
                fmt::format("{}, which waits behind {} more lock(s) on {}",
                            thread_label(s, *lock.owner_tid), chain.size() - 1, activity.text);
        } else {
            held_by = activity.text;
        }
        if (std::find(f.threads.begin(), f.threads.end(), *lock.owner_tid) == f.threads.end())
            f.threads.push_back(*lock.owner_tid);
    }
    f.summary = fmt::format("{} thread(s) wait for {} held by {}{}", info.waiter_tids.size(), name,
                            held_by, f.severity == Severity::kError ? "" : ": not a deadlock");
    for (int32_t tid : info.waiter_tids) {
        f.evidence_text += fmt::format("  {} waits for it\n", thread_label(s, tid));
        f.evidence_text += stack_text(facts.frames_of(tid), kStackFramesShown);
    }
    if (lock.owner_tid) {
        f.evidence_text += fmt::format("  the owner: {}\n", held_by);
        f.evidence_text += stack_text(facts.frames_of(chain.back()), kStackFramesShown);
    }
    f.next_step =
        f.severity == Severity::kError
            ? "The owner is gone: find where it could exit or be cancelled with the lock held "
              "(a robust mutex would report EOWNERDEAD)."
            : "Look at what the owner does while it holds the lock (its stack and system call "
              "above): move that work (I/O, long loops) out of the critical section. Take a "
              "second dump to see whether the owner progresses.";
    f.evidence = {{"lock_region", region},
                  {"owner", owner_json},
                  {"owner_chain", chain},
                  {"readers", lock.readers}};
    f.locks.push_back(std::move(info));
    out.push_back(std::move(f));
}

}  // namespace

void detect_locks(DumpFacts& facts, std::vector<Finding>& out) {
    std::map<int32_t, const LockWait*> edges;
    for (const ThreadWait& w : facts.waits)
        if (w.lock) edges[w.tid] = &*w.lock;
    if (edges.empty()) return;
    const auto cycles = find_cycles(edges);
    std::set<uint64_t> cycle_locks;
    for (const auto& cycle : cycles) {
        report_deadlock(facts, cycle, edges, out);
        for (int32_t tid : cycle) cycle_locks.insert(edges.at(tid)->address);
    }
    // Contention: each other lock with waiters, once. A pthread_join alone is no contention.
    std::set<uint64_t> reported;
    for (const ThreadWait& w : facts.waits) {
        if (!w.lock || w.lock->kind == "join") continue;
        if (cycle_locks.count(w.lock->address) != 0 || !reported.insert(w.lock->address).second)
            continue;
        // Waiters behind a deadlock are listed there.
        bool behind_cycle = false;
        std::optional<int32_t> at = w.lock->owner_tid;
        for (size_t step = 0; at && step <= edges.size(); ++step) {
            for (const auto& cycle : cycles)
                if (std::find(cycle.begin(), cycle.end(), *at) != cycle.end()) behind_cycle = true;
            auto next = edges.find(*at);
            if (next == edges.end()) break;
            at = next->second->owner_tid;
        }
        if (!behind_cycle) report_contention(facts, *w.lock, edges, out);
    }
}

}  // namespace dumpscope::diagnosis
