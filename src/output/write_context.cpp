#include "output/write_context.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace dumpscope {

std::atomic<bool>& cancel_requested() {
    static std::atomic<bool> flag{false};
    return flag;
}

namespace {

// Zeroes the parts of [addr, addr+out.size()) that content.zeroed covers.
void apply_zeroed(const DumpContent& content, uint64_t addr, std::span<uint8_t> out) {
    const uint64_t end = addr + out.size();
    auto it = std::upper_bound(content.zeroed.begin(), content.zeroed.end(), addr,
                               [](uint64_t a, const MemoryRange& r) { return a < r.start; });
    if (it != content.zeroed.begin()) --it;
    for (; it != content.zeroed.end() && it->start < end; ++it) {
        const uint64_t lo = std::max(addr, it->start);
        const uint64_t hi = std::min(end, it->end());
        if (lo < hi) std::memset(out.data() + (lo - addr), 0, hi - lo);
    }
}

}  // namespace

void merge_write_record(CaptureRecord& record, const WriteRecord& written) {
    record.notes.insert(record.notes.end(), written.notes.begin(), written.notes.end());
}

CaptureRecord record_to_write(const Snapshot& snapshot, const WriteContext& ctx,
                              const WriteRecord& written) {
    if (ctx.capture_record) return ctx.capture_record(written);
    CaptureRecord record = snapshot.capture;
    merge_write_record(record, written);
    return record;
}

Status read_dump_memory(const Snapshot& snapshot, const DumpContent& content, uint64_t addr,
                        std::span<uint8_t> out, uint64_t& unreadable) {
    if (cancel_requested().load()) return Error{"interrupted by a signal"};
    size_t done = 0;
    while (done < out.size()) {
        size_t got = 0;
        if (snapshot.memory) {
            auto r = snapshot.memory->read(addr + done, out.subspan(done));
            if (r.ok()) got = *r;
        }
        done += got;
        if (done < out.size()) {
            // Skip one unreadable page (or the rest of the buffer) and try again after it.
            const uint64_t here = addr + done;
            const uint64_t next_page = (here | 0xfff) + 1;
            const size_t skip = std::min<uint64_t>(next_page - here, out.size() - done);
            std::memset(out.data() + done, 0, skip);
            unreadable += skip;
            done += skip;
        }
    }
    apply_zeroed(content, addr, out);
    return {};
}

}  // namespace dumpscope
