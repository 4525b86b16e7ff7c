#include "live/overlay_memory_source.h"

#include <algorithm>
#include <cstring>

namespace dumpscope {

OverlayMemorySource::OverlayMemorySource(std::shared_ptr<const MemorySource> base,
                                         std::vector<Patch> patches, const std::vector<Hole>& holes)
    : base_(std::move(base)), patches_(std::move(patches)) {
    for (const Patch& p : patches_) {
        if (!p.bytes.empty()) {
            segments_.push_back(
                {p.address, p.address + p.bytes.size(), Segment::Kind::kPatch, &p.bytes});
        }
    }
    for (const Hole& h : holes) {
        if (h.end > h.start) segments_.push_back({h.start, h.end, Segment::Kind::kHole, nullptr});
    }
    sort_segments();
}

void OverlayMemorySource::redirect(std::shared_ptr<const MemorySource> other,
                                   const std::vector<Range>& ranges) {
    other_ = std::move(other);
    for (const Range& r : ranges) {
        if (r.end > r.start) {
            segments_.push_back({r.start, r.end, Segment::Kind::kRedirect, nullptr});
        }
    }
    sort_segments();
}

void OverlayMemorySource::sort_segments() {
    std::sort(segments_.begin(), segments_.end(),
              [](const Segment& a, const Segment& b) { return a.start < b.start; });
}

std::optional<OverlayMemorySource::Range> OverlayMemorySource::failed_redirect() const {
    std::lock_guard lock(failure_mutex_);
    return failed_;
}

Result<size_t> OverlayMemorySource::read(uint64_t addr, std::span<uint8_t> out) const {
    size_t done = 0;
    auto it = std::upper_bound(segments_.begin(), segments_.end(), addr,
                               [](uint64_t a, const Segment& s) { return a < s.end; });
    while (done < out.size()) {
        const uint64_t at = addr + done;
        while (it != segments_.end() && it->end <= at) ++it;
        if (it != segments_.end() && it->start <= at) {
            const size_t n =
                static_cast<size_t>(std::min<uint64_t>(out.size() - done, it->end - at));
            if (it->kind == Segment::Kind::kHole) return done;
            if (it->kind == Segment::Kind::kPatch) {
                std::memcpy(out.data() + done, it->bytes->data() + (at - it->start), n);
                done += n;
                continue;
            }
            auto got = other_ ? other_->read(at, out.subspan(done, n)) : Result<size_t>(0);
            const size_t read = got.ok() ? *got : 0;
            done += read;
            if (read < n) {
                std::lock_guard lock(failure_mutex_);
                if (!failed_) failed_ = Range{it->start, it->end};
                return done;
            }
            continue;
        }
        const uint64_t next = it == segments_.end() ? UINT64_MAX : it->start;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size() - done, next - at));
        auto got = base_->read(at, out.subspan(done, want));
        if (!got.ok()) return done == 0 ? got : Result<size_t>(done);
        done += *got;
        if (*got < want) return done;
    }
    return done;
}

}  // namespace dumpscope
