#include "analysis/unwinder.h"

#include <algorithm>
#include <cstdint>

#include "analysis/stack_scanner.h"
#include "arch/arch.h"

namespace dumpscope::analysis {

namespace {

struct Walk {
    DwflSession* session = nullptr;
    unsigned dwarf_sp = 0;  // DWARF numbers of the stack and frame pointers
    unsigned dwarf_frame = 0;
    std::vector<Frame>* frames = nullptr;
    FrameTrust first_trust = FrameTrust::kContext;
    size_t max_frames = 0;
    size_t walked = 0;        // frames of this walk
    uint64_t last_frame = 0;  // frame pointer of the last frame, for a scan restart
    uint64_t entry_point = 0;
    bool looped = false;
    bool reached_entry = false;  // the last frame is _start
};

int on_frame(Dwfl_Frame* state, void* arg) {
    auto* walk = static_cast<Walk*>(arg);
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
    Dwarf_Word sp = 0, fp = 0;
    const bool have_sp = dwfl_frame_reg(state, walk->dwarf_sp, &sp) == 0;
    if (dwfl_frame_reg(state, walk->dwarf_frame, &fp) == 0) walk->last_frame = fp;

    Frame frame;
    frame.pc = pc;
    frame.sp = have_sp ? sp : 0;
    frame.activation = walk->walked == 0 ? walk->first_trust == FrameTrust::kContext : activation;
    std::vector<Frame>& frames = *walk->frames;
    if (walk->walked == 0) {
        frame.trust = walk->first_trust;
    } else {
        const Frame& callee = frames.back();
        frame.trust = walk->session->has_cfi(callee.lookup_pc()) ? FrameTrust::kCfi
                                                                 : FrameTrust::kFramePointer;
        // A frame that moves down the stack, or repeats its callee, ends the walk.
        if (have_sp && callee.sp != 0 &&
            (sp < callee.sp || (sp == callee.sp && frame.pc == callee.pc))) {
            walk->looped = true;
            return DWARF_CB_ABORT;
        }
    }
    if (pc == 0) return DWARF_CB_ABORT;
    frames.push_back(frame);
    ++walk->walked;
    const uint64_t at = frame.lookup_pc();
    if (walk->entry_point != 0 && at >= walk->entry_point &&
        at < walk->entry_point + kEntryFrameBytes) {
        walk->reached_entry = true;
        return DWARF_CB_ABORT;
    }
    return frames.size() >= walk->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

std::vector<Frame> unwind_frames(DwflSession& session, const CpuContext& regs, uint64_t stack_start,
                                 uint64_t stack_end, const UnwindLimits& limits) {
    std::vector<Frame> frames;
    const arch::ArchOps* arch = arch::ops(regs.architecture());
    if (arch == nullptr) return frames;  // no registers, no stack
    CpuContext start = regs;
    FrameTrust trust = FrameTrust::kContext;
    while (frames.size() < limits.max_frames) {
        Walk walk;
        walk.session = &session;
        walk.dwarf_sp = arch->dwarf_sp;
        walk.dwarf_frame = arch->dwarf_frame;
        walk.frames = &frames;
        walk.first_trust = trust;
        walk.max_frames = limits.max_frames;
        walk.last_frame = start.frame();
        walk.entry_point = limits.entry_point;
        const int result = session.walk(start, &on_frame, &walk);
        if (result == 0 || walk.looped || walk.reached_entry ||
            frames.size() >= limits.max_frames) {
            break;
        }
        if (frames.empty()) break;  // not even the context: nothing to scan from
        // libdwfl stopped before the end of the stack: look for the next return address above
        // the last frame's stack pointer, within the thread's stack.
        const Frame& last = frames.back();
        const uint64_t from = last.sp != 0 ? last.sp : start.sp();
        if (stack_end != 0 && (from < stack_start || from >= stack_end)) break;
        uint64_t limit = from + limits.scan_words * 8;
        if (stack_end != 0) limit = std::min(limit, stack_end);
        // From the last frame's stack pointer: after a scan restart that is the word above the
        // slot it used, so no return address is found twice.
        const auto hit = scan_for_return_address(session, from, limit);
        if (!hit) break;
        start = CpuContext::zeroed(regs.architecture());
        start.set_pc(hit->return_address);
        start.set_sp(hit->slot + 8);
        start.set_frame(walk.last_frame);
        trust = FrameTrust::kScan;
    }
    return frames;
}

}  // namespace

std::vector<Frame> unwind_thread(DwflSession& session, const CpuContext& regs, uint64_t stack_start,
                                 uint64_t stack_end, const UnwindLimits& limits, bool* truncated) {
    // One frame more than asked for: whether it exists says if the stack was cut.
    UnwindLimits walk_limits = limits;
    walk_limits.max_frames = limits.max_frames == SIZE_MAX ? SIZE_MAX : limits.max_frames + 1;
    std::vector<Frame> frames = unwind_frames(session, regs, stack_start, stack_end, walk_limits);
    const bool cut = frames.size() > limits.max_frames;
    if (cut) frames.resize(limits.max_frames);
    if (truncated != nullptr) *truncated = cut;
    return frames;
}

}  // namespace dumpscope::analysis
