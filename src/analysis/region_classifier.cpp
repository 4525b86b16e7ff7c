#include "analysis/region_classifier.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/paths.h"
#include "minidump/page_protection.h"

namespace dumpscope::analysis {

namespace {

using minidump::MemoryState;
using minidump::MemoryType;

constexpr uint64_t kArenaSize = 64ull << 20;  // glibc HEAP_MAX_SIZE on 64-bit: arenas' alignment
constexpr uint64_t kBrkRandomRange = 32ull << 20;  // x86-64 brk start randomization

std::string protection_of(const Mapping& m) {
    std::string p = "----";
    if (m.read) p[0] = 'r';
    if (m.write) p[1] = 'w';
    if (m.exec) p[2] = 'x';
    p[3] = m.shared ? 's' : 'p';
    return p;
}

bool anonymous(const Mapping& m) { return m.path.empty(); }
bool no_access(const Mapping& m) { return !m.read && !m.write && !m.exec; }

const Thread* thread_with_stack(const Snapshot& s, const Mapping& m) {
    for (const Thread& t : s.threads) {
        const uint64_t sp = t.regs.sp();
        if ((sp >= m.start && sp < m.end) || (t.stack_start == m.start && t.stack_end == m.end)) {
            return &t;
        }
    }
    return nullptr;
}

// The brk heap of a core without mapping names: the first anonymous rw mapping the kernel's
// brk randomization could have put after the executable.
const Mapping* inferred_brk(const Snapshot& s) {
    for (const Mapping& m : s.mappings) {
        if (m.path == "[heap]" || (!m.path.empty() && m.path[0] == '[')) return nullptr;
    }
    const Module* exe = nullptr;
    for (const Module& m : s.modules) {
        if (m.is_main_executable) exe = &m;
    }
    if (exe == nullptr) return nullptr;
    for (const Mapping& m : s.mappings) {
        if (m.start < exe->end) continue;
        if (m.start > exe->end + kBrkRandomRange) return nullptr;
        if (anonymous(m) && m.read && m.write && !m.shared) return &m;
    }
    return nullptr;
}

Region classify(const Snapshot& s, const Mapping& m, const Mapping* brk) {
    Region r;
    r.start = m.start;
    r.end = m.end;
    r.protection = protection_of(m);
    r.protect = minidump::page_protection(m);
    r.path = m.path;
    r.state = no_access(m) ? MemoryState::Reserve : MemoryState::Commit;
    r.type = m.file_backed() || m.shared ? MemoryType::Mapped : MemoryType::Private;
    r.bytes_in_dump = s.memory ? s.memory->bytes_present(m.start, m.size()) : 0;

    const Module* module = s.module_at(m.start);
    if (module != nullptr && (m.path.empty() || m.path == module->path || m.path == "[vdso]" ||
                              base_name(m.path) == base_name(module->path))) {
        r.usage = RegionUsage::kImage;
        r.type = MemoryType::Image;
        r.detail = base_name(module->path);
        return r;
    }
    if (const Thread* t = thread_with_stack(s, m)) {
        r.usage = RegionUsage::kStack;
        r.detail = fmt::format("thread {}", t->tid);
        return r;
    }
    if (m.path == "[stack]") {
        r.usage = RegionUsage::kStack;
        r.detail = "main stack";
        return r;
    }
    if (m.path == "[heap]" || &m == brk) {
        r.usage = RegionUsage::kHeap;
        r.detail = m.path == "[heap]" ? "brk" : "brk (inferred)";
        return r;
    }
    if (m.file_backed()) {
        r.usage = RegionUsage::kMappedFile;
        r.detail = m.path;
        return r;
    }
    if (!m.path.empty()) {  // [vvar], [vsyscall], [anon:...], /dev/zero (deleted) ...
        r.usage = RegionUsage::kOther;
        r.detail = m.path;
        return r;
    }
    // A glibc arena heap: anonymous, private, starting on a 64 MiB boundary (its unused tail is a
    // PROT_NONE mapping inside the same 64 MiB).
    const Mapping* previous = &m == s.mappings.data() ? nullptr : &m - 1;
    const bool arena_start = m.start % kArenaSize == 0 && m.read && m.write && !m.shared;
    const bool arena_tail = no_access(m) && previous != nullptr && anonymous(*previous) &&
                            previous->end == m.start && previous->start % kArenaSize == 0 &&
                            m.end - previous->start <= kArenaSize;
    if (arena_start || arena_tail) {
        r.usage = RegionUsage::kHeap;
        r.detail = "arena";
        return r;
    }
    r.usage = RegionUsage::kAnonymous;
    return r;
}

// PROT_NONE pages right below a stack are its guard.
void mark_guards(std::vector<Region>& regions) {
    for (size_t i = 0; i + 1 < regions.size(); ++i) {
        Region& r = regions[i];
        const Region& next = regions[i + 1];
        if (r.state == MemoryState::Reserve && r.usage == RegionUsage::kAnonymous &&
            next.usage == RegionUsage::kStack && r.end == next.start) {
            r.usage = RegionUsage::kGuard;
            r.detail = "below the stack of " + next.detail;
        }
    }
}

}  // namespace

const char* usage_name(RegionUsage usage) {
    switch (usage) {
        case RegionUsage::kStack:
            return "Stack";
        case RegionUsage::kGuard:
            return "Guard";
        case RegionUsage::kHeap:
            return "Heap";
        case RegionUsage::kImage:
            return "Image";
        case RegionUsage::kMappedFile:
            return "MappedFile";
        case RegionUsage::kAnonymous:
            return "Anonymous";
        case RegionUsage::kOther:
            return "Other";
        case RegionUsage::kFree:
            return "Free";
    }
    return "Unknown";
}

std::vector<Region> classify_regions(const Snapshot& snapshot, bool include_free) {
    const Mapping* brk = inferred_brk(snapshot);
    std::vector<Region> busy;
    for (const Mapping& m : snapshot.mappings) {
        if (m.end > m.start) busy.push_back(classify(snapshot, m, brk));
    }
    mark_guards(busy);
    if (!include_free) return busy;
    std::vector<Region> all;
    uint64_t at = 0;
    for (Region& r : busy) {
        if (r.start > at && at < kUserSpaceEnd) {
            Region gap;
            gap.start = at;
            gap.end = std::min(r.start, kUserSpaceEnd);
            all.push_back(gap);
        }
        at = std::max(at, r.end);
        all.push_back(std::move(r));
    }
    if (at < kUserSpaceEnd) {
        Region gap;
        gap.start = at;
        gap.end = kUserSpaceEnd;
        all.push_back(gap);
    }
    return all;
}

}  // namespace dumpscope::analysis
