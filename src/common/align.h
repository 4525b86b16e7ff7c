// Rounding offsets and addresses up to a boundary (file layouts, note padding, pages).
#pragma once

#include <cstdint>

namespace dumpscope {

// The smallest multiple of `alignment` (not 0; any value, not only powers of two) that is at
// least `value`.
constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

}  // namespace dumpscope
