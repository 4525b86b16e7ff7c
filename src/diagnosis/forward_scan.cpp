#include "diagnosis/forward_scan.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace dumpscope {

Result<size_t> ForwardScan::read(uint64_t addr, std::span<uint8_t> out) {
    if (copies_) {
        if (out.size() >= kLargestWindow) return ranges_->copy(addr, out);
        const std::span<const uint8_t> bytes = copied(addr, out.size());
        std::memcpy(out.data(), bytes.data(), bytes.size());
        return bytes.size();
    }
    auto n = memory_.read(addr, out);
    if (n.ok() && *n != 0) note(addr, *n);
    return n;
}

bool ForwardScan::word(uint64_t addr, uint64_t& out) {
    if (const std::span<const uint8_t> in_place = view(addr, 8); in_place.size() == 8) {
        std::memcpy(&out, in_place.data(), 8);
        return true;
    }
    std::array<uint8_t, 8> bytes{};
    auto n = read(addr, bytes);
    if (!n.ok() || *n != bytes.size()) return false;
    std::memcpy(&out, bytes.data(), 8);
    return true;
}

std::span<const uint8_t> ForwardScan::copied(uint64_t addr, uint64_t size) {
    if (addr >= window_base_ && addr - window_base_ < window_size_ &&
        size <= window_size_ - (addr - window_base_)) {
        return std::span<const uint8_t>(window_.data() + (addr - window_base_), size);
    }
    // Forward from the window (or just past it): a scan, so read more at a time; else a jump.
    const bool onward = window_size_ != 0 && addr >= window_base_ &&
                        addr - window_base_ <= window_size_ + kLargestWindow;
    next_window_ = onward ? std::min(next_window_ * 2, kLargestWindow) : kFirstWindow;
    const uint64_t want = std::max(size, next_window_);
    if (window_.size() < want) window_.resize(want);
    auto n = ranges_->copy(addr, std::span(window_.data(), want));
    window_base_ = addr;
    window_size_ = n.ok() ? *n : 0;
    return std::span<const uint8_t>(window_.data(), std::min(size, window_size_));
}

std::span<const uint8_t> ForwardScan::view(uint64_t addr, uint64_t size) {
    if (ranges_ == nullptr) return {};
    if (copies_) return copied(addr, size);
    if (addr < mapped_from_ || size > mapped_to_ - std::min(addr, mapped_to_)) {
        mapped_from_ = addr;
        const uint64_t ahead = std::max(size, kAhead);
        mapped_to_ = ahead > UINT64_MAX - addr ? UINT64_MAX : addr + ahead;
        ranges_->will_read(mapped_from_, mapped_to_ - mapped_from_);
    }
    const std::span<const uint8_t> bytes = ranges_->view(addr, size);
    if (!bytes.empty()) note(addr, bytes.size());
    return bytes;
}

void ForwardScan::note(uint64_t addr, uint64_t size) {
    if (ranges_ == nullptr) return;
    const uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    if (from_ == to_ || addr < from_ || addr > to_ + keep_) {  // nothing held, or a jump
        release_held();
        from_ = addr;
        to_ = end;
        return;
    }
    to_ = std::max(to_, end);
    if (addr - from_ > keep_) {  // let go of what lies behind this read
        ranges_->release(from_, addr - from_);
        from_ = addr;
    }
}

void ForwardScan::release_held() {
    if (ranges_ != nullptr && to_ > from_) ranges_->release(from_, to_ - from_);
    from_ = to_ = 0;
}

Result<size_t> ScatteredReads::read(uint64_t addr, std::span<uint8_t> out) {
    auto n = memory_.read(addr, out);
    if (ranges_ != nullptr && n.ok() && *n != 0) {
        lowest_ = std::min(lowest_, addr);
        highest_ = std::max(highest_, addr + *n);
        if (++count_ >= batch_) flush();
    }
    return n;
}

bool ScatteredReads::word(uint64_t addr, uint64_t& out) {
    std::array<uint8_t, 8> bytes{};
    auto n = read(addr, bytes);
    if (!n.ok() || *n != bytes.size()) return false;
    std::memcpy(&out, bytes.data(), 8);
    return true;
}

void ScatteredReads::flush() {
    if (ranges_ != nullptr && highest_ > lowest_) ranges_->release(lowest_, highest_ - lowest_);
    count_ = 0;
    lowest_ = UINT64_MAX;
    highest_ = 0;
}

bool WindowReader::word(uint64_t addr, uint64_t& out) {
    if (addr < base_ || addr - base_ + 8 > window_.size()) refill(addr);
    if (addr < base_ || addr - base_ + 8 > window_.size()) {
        // Not 8 bytes in one range from here: a word across two adjacent ranges is read (which
        // may replace the scan's window of copied reads: ours is dropped).
        base_ = 0;
        window_ = {};
        return scan_.word(addr, out);
    }
    std::memcpy(&out, window_.data() + (addr - base_), 8);
    return true;
}

void WindowReader::refill(uint64_t addr) {
    base_ = addr & ~uint64_t{7};
    window_ = scan_.view(base_, size_);
    if (window_.empty()) {
        buffer_.resize(size_);
        auto n = scan_.read(base_, buffer_);
        window_ = std::span<const uint8_t>(buffer_.data(), n.ok() ? *n : 0);
    }
    bytes_read_ += window_.size();
}

}  // namespace dumpscope
