#include "snapshot/memory_source.h"

#include <algorithm>
#include <array>

namespace dumpscope {

uint64_t MemorySource::bytes_present(uint64_t addr, uint64_t size) const {
    constexpr uint64_t kPage = 4096;
    std::array<uint8_t, kPage> buffer{};
    uint64_t present = 0;
    uint64_t at = addr;
    const uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    while (at < end) {
        const uint64_t chunk = std::min(end - at, kPage - at % kPage);
        auto got = read(at, std::span<uint8_t>(buffer.data(), chunk));
        if (got.ok()) present += *got;
        at += chunk;
    }
    return present;
}

}  // namespace dumpscope
