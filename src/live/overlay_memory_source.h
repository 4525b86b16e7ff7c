// A memory source with some ranges replaced: bytes copied elsewhere ("patches") are served
// from memory, "holes" read as absent (a short count), and "redirects" are read from a second
// source, whatever the base source holds there. The clone's memory is one: the clone lacks
// MADV_DONTFORK regions, reads MADV_WIPEONFORK ones as zeros and still has the injected code at
// the injection site; the target's own bytes for those are patched in (copied during the pause)
// or redirected to the running target (read after the resume).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "snapshot/memory_source.h"

namespace dumpscope {

class OverlayMemorySource final : public MemorySource {
public:
    struct Patch {
        uint64_t address = 0;
        std::vector<uint8_t> bytes;
    };
    struct Hole {
        uint64_t start = 0;
        uint64_t end = 0;
    };
    using Range = Hole;

    // Patches and holes must not overlap one another.
    OverlayMemorySource(std::shared_ptr<const MemorySource> base, std::vector<Patch> patches,
                        const std::vector<Hole>& holes);

    // Reads [start, end) of each range from `other` instead of the base. The ranges must not
    // overlap patches, holes or earlier redirects. Call before any read() (not thread-safe).
    void redirect(std::shared_ptr<const MemorySource> other, const std::vector<Range>& ranges);

    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override;

    // The first redirected range that came back short (the other source no longer had those
    // bytes: the process exited or unmapped them), if any.
    std::optional<Range> failed_redirect() const;

private:
    struct Segment {
        uint64_t start;
        uint64_t end;
        enum class Kind { kPatch, kHole, kRedirect } kind;
        const std::vector<uint8_t>* bytes;  // kPatch
    };
    void sort_segments();

    std::shared_ptr<const MemorySource> base_;
    std::shared_ptr<const MemorySource> other_;
    std::vector<Patch> patches_;
    std::vector<Segment> segments_;  // sorted by start
    mutable std::mutex failure_mutex_;
    mutable std::optional<Range> failed_;
};

}  // namespace dumpscope
