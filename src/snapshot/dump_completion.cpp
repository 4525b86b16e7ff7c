#include "snapshot/dump_completion.h"

#include <algorithm>
#include <cstring>

#include "common/paths.h"

namespace dumpscope {

namespace {

Module* main_module(Snapshot& s) {
    for (uint64_t type : {kAuxvPhdr, kAuxvEntry}) {
        const auto at = auxv_value(s.process.auxv, type);
        if (!at) continue;
        for (Module& m : s.modules) {
            if (*at >= m.base && *at < m.end) return &m;
        }
    }
    if (!s.process.exe.empty()) {
        for (Module& m : s.modules) {
            if (m.path == s.process.exe) return &m;
        }
    }
    return nullptr;
}

}  // namespace

std::optional<uint64_t> auxv_value(std::span<const uint8_t> auxv, uint64_t type) {
    for (size_t at = 0; at + 16 <= auxv.size(); at += 16) {
        uint64_t key = 0, value = 0;
        std::memcpy(&key, auxv.data() + at, 8);
        std::memcpy(&value, auxv.data() + at + 8, 8);
        if (key == 0) break;  // AT_NULL
        if (key == type) return value;
    }
    return std::nullopt;
}

void complete_dump_snapshot(Snapshot& s) {
    std::sort(s.mappings.begin(), s.mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    std::sort(s.modules.begin(), s.modules.end(),
              [](const Module& a, const Module& b) { return a.base < b.base; });
    for (Thread& t : s.threads) {
        const uint64_t sp = t.regs.sp();
        if (t.stack_end > t.stack_start && sp >= t.stack_start && sp < t.stack_end) continue;
        if (const Mapping* m = s.mapping_at(sp)) {
            t.stack_start = m->start;
            t.stack_end = m->end;
        }
    }
    const bool marked = std::any_of(s.modules.begin(), s.modules.end(),
                                    [](const Module& m) { return m.is_main_executable; });
    if (!marked) {
        if (Module* m = main_module(s)) m->is_main_executable = true;
    }
    for (const Module& m : s.modules) {
        if (!m.is_main_executable) continue;
        if (s.process.exe.empty()) s.process.exe = m.path;
        if (s.process.name.empty()) s.process.name = base_name(m.path).substr(0, 15);
    }
}

}  // namespace dumpscope
