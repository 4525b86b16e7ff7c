// A memory source with some ranges replaced: bytes copied elsewhere ("patches") are served
// from memory, and "holes" read as absent (a short count), whatever the base source holds there.
// The clone's memory is one: the clone lacks MADV_DONTFORK regions, reads MADV_WIPEONFORK ones as
// zeros and still has the injected code at the injection site; the target's own bytes for those
// are patched in, or the regions are holes.
#pragma once

#include <cstdint>
#include <memory>
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

    // Patches and holes must not overlap one another.
    OverlayMemorySource(std::shared_ptr<const MemorySource> base, std::vector<Patch> patches,
                        const std::vector<Hole>& holes);

    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override;

private:
    struct Segment {
        uint64_t start;
        uint64_t end;
        const std::vector<uint8_t>* bytes;  // nullptr: a hole
    };
    std::shared_ptr<const MemorySource> base_;
    std::vector<Patch> patches_;
    std::vector<Segment> segments_;  // sorted by start
};

}  // namespace dumpscope
