// The unwinder on synthetic snapshots with no module files at all: libdwfl's frame-pointer
// fallback follows an rbp chain (trust frame_pointer), and where nothing else works the stack is
// scanned for a word that returns after a call instruction (trust scan). Frame 0 is the context.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "analysis/dwfl_session.h"
#include "analysis/stack_scanner.h"
#include "analysis/unwinder.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope::analysis {
namespace {

constexpr uint64_t kCode = 0x400000;         // r-x, a module whose file does not exist
constexpr uint64_t kStack = 0x7ff000;        // rw-, one page
constexpr uint64_t kReturn = kCode + 0x105;  // follows "call rel32" at kCode + 0x100

class SyntheticProcess : public ::testing::Test {
protected:
    void SetUp() override {
        code_.assign(0x1000, 0x90);  // nop
        code_[0x100] = 0xe8;         // call rel32
        stack_.assign(0x1000, 0);
        Mapping text;
        text.start = kCode;
        text.end = kCode + code_.size();
        text.read = text.exec = true;
        text.path = "/nonexistent/dumpscope-test-module";
        Mapping stack;
        stack.start = kStack;
        stack.end = kStack + stack_.size();
        stack.read = stack.write = true;
        stack.path = "[stack]";
        snapshot_.mappings = {text, stack};
        Module module;
        module.path = text.path;
        module.base = kCode;
        module.end = text.end;
        module.build_id = {1, 2, 3, 4};
        snapshot_.modules = {module};
        snapshot_.process.pid = 99;
    }
    void put_word(uint64_t address, uint64_t value) {
        std::memcpy(stack_.data() + (address - kStack), &value, sizeof(value));
    }
    std::unique_ptr<DwflSession> session() {
        auto memory = RangeMemorySource::create({{kCode, code_}, {kStack, stack_}}, nullptr);
        EXPECT_TRUE(memory.ok());
        snapshot_.memory = *memory;
        auto created = DwflSession::create(snapshot_, SymbolOptions{});
        EXPECT_TRUE(created.ok()) << created.error().message;
        return std::move(*created);
    }
    std::vector<uint8_t> code_, stack_;
    Snapshot snapshot_;
};

TEST_F(SyntheticProcess, FollowsCallRecognisesCallInstructions) {
    code_[0x200] = 0xff;  // call rax
    code_[0x201] = 0xd0;
    code_[0x300] = 0xff;  // call [rbp+8]
    code_[0x301] = 0x55;
    code_[0x302] = 0x08;
    code_[0x400] = 0xff;  // call [rip+disp32]
    code_[0x401] = 0x15;
    auto s = session();
    EXPECT_TRUE(follows_call(*s, kReturn));
    EXPECT_TRUE(follows_call(*s, kCode + 0x202));
    EXPECT_TRUE(follows_call(*s, kCode + 0x303));
    EXPECT_TRUE(follows_call(*s, kCode + 0x406));
    EXPECT_FALSE(follows_call(*s, kCode + 0x500)) << "nops are no call";
    EXPECT_TRUE(follows_call(*s, 0x900000)) << "code not in the dump cannot be checked";
}

TEST_F(SyntheticProcess, ScanningFindsTheReturnAddressWhenNothingElseUnwinds) {
    const uint64_t sp = kStack + 0x800;
    put_word(sp, kCode + 0x500);   // points into code, but not after a call
    put_word(sp + 8, 0x12345678);  // not code
    put_word(sp + 16, kReturn);    // the caller
    auto s = session();
    CpuContext regs = CpuContext::zeroed(Architecture::kX86_64);
    regs.set_pc(kCode + 0x10);
    regs.set_sp(sp);
    regs.set_frame(0);  // no frame pointer chain
    const std::vector<Frame> frames = unwind_thread(*s, regs, kStack, kStack + 0x1000);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].trust, FrameTrust::kContext);
    EXPECT_EQ(frames[0].pc, regs.pc());
    EXPECT_EQ(frames[1].trust, FrameTrust::kScan);
    EXPECT_EQ(frames[1].pc, kReturn);
    EXPECT_EQ(frames[1].sp, sp + 24);
}

TEST_F(SyntheticProcess, FramePointerChainIsFollowedWithoutCallFrameInformation) {
    const uint64_t sp = kStack + 0x800;
    const uint64_t frame = kStack + 0x900;
    put_word(frame, 0);            // the caller's rbp: end of the chain
    put_word(frame + 8, kReturn);  // the return address
    auto s = session();
    CpuContext regs = CpuContext::zeroed(Architecture::kX86_64);
    regs.set_pc(kCode + 0x10);
    regs.set_sp(sp);
    regs.set_frame(frame);
    const std::vector<Frame> frames = unwind_thread(*s, regs, kStack, kStack + 0x1000);
    ASSERT_GE(frames.size(), 2u);
    EXPECT_EQ(frames[0].trust, FrameTrust::kContext);
    EXPECT_EQ(frames[1].trust, FrameTrust::kFramePointer);
    EXPECT_EQ(frames[1].pc, kReturn);
    EXPECT_EQ(frames[1].sp, frame + 16);
}

TEST_F(SyntheticProcess, TheWalkEndsAtTheProgramsEntryPointInsteadOfScanningOn) {
    // _start at kCode + 0xf0 calls at kCode + 0x100 (returns to kReturn); above its slot the
    // stack holds another word that looks like a return address (as argv and auxv can).
    const uint64_t sp = kStack + 0x800;
    put_word(sp, kReturn);  // frame 1: _start, by scanning
    put_word(sp + 8, 0);
    put_word(sp + 16, kReturn);  // would be a frame 2 by scanning again
    auto s = session();
    CpuContext regs = CpuContext::zeroed(Architecture::kX86_64);
    regs.set_pc(kCode + 0x10);
    regs.set_sp(sp);
    UnwindLimits limits;
    EXPECT_EQ(unwind_thread(*s, regs, kStack, kStack + 0x1000, limits).size(), 3u)
        << "without the entry point, scanning goes on";
    limits.entry_point = kCode + 0xf0;
    const std::vector<Frame> frames = unwind_thread(*s, regs, kStack, kStack + 0x1000, limits);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[1].pc, kReturn);
}

TEST_F(SyntheticProcess, AMissingModuleIsReportedAndNotGivenToLibdwfl) {
    auto s = session();
    ASSERT_EQ(s->modules().size(), 1u);
    EXPECT_EQ(s->modules()[0].files.status, SymbolStatus::kMissing);
    EXPECT_EQ(s->modules()[0].dwfl_module, nullptr);
}

}  // namespace
}  // namespace dumpscope::analysis
