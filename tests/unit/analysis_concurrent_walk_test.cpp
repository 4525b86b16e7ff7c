// One DwflSession walked from several threads at once, and from inside a walk: every walk gets
// the frames a walk on its own gets (each walk is its own libdwfl thread; nothing of one walk is
// kept in the session where another could see it). On Breakpad's crasher.dmp (three threads).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "analysis/stack_walk.h"
#include "readers/dump_reader.h"

namespace dumpscope::analysis {
namespace {

constexpr const char* kDump = DUMPSCOPE_SOURCE_DIR "/tests/data/breakpad/crasher.dmp";

struct FrameKey {
    uint64_t pc, sp;
    FrameTrust trust;
    std::string module, function;
    bool operator==(const FrameKey&) const = default;
};

std::vector<FrameKey> keys(const ThreadStack& stack) {
    std::vector<FrameKey> out;
    for (const Frame& f : stack.frames) out.push_back({f.pc, f.sp, f.trust, f.module, f.function});
    return out;
}

class ConcurrentWalk : public ::testing::Test {
protected:
    void SetUp() override {
        auto read = read_dump_file(kDump);
        ASSERT_TRUE(read.ok()) << read.error().message;
        snapshot_ = std::move(*read);
        ASSERT_EQ(snapshot_.threads.size(), 3u);
        auto created = DwflSession::create(snapshot_, SymbolOptions{});
        ASSERT_TRUE(created.ok()) << created.error().message;
        session_ = std::move(*created);
        for (const Thread& t : snapshot_.threads) {
            alone_.push_back(keys(walk_thread(*session_, t)));
            ASSERT_GE(alone_.back().size(), 2u) << "thread " << t.tid << " has no caller";
        }
    }
    Snapshot snapshot_;
    std::unique_ptr<DwflSession> session_;
    std::vector<std::vector<FrameKey>> alone_;  // each thread walked on its own
};

TEST_F(ConcurrentWalk, ThreadsWalkedAtOnceGetTheStacksOfWalksOneByOne) {
    constexpr size_t kWalkers = 4;
    constexpr size_t kRounds = 25;
    const size_t n = snapshot_.threads.size();
    // walker w, round r walks thread (w + r) % n, so the threads' walks overlap in every mix.
    std::vector<std::vector<std::vector<FrameKey>>> got(kWalkers);
    std::vector<std::thread> walkers;
    for (size_t w = 0; w < kWalkers; ++w) {
        walkers.emplace_back([&, w] {
            for (size_t r = 0; r < kRounds; ++r) {
                got[w].push_back(keys(walk_thread(*session_, snapshot_.threads[(w + r) % n])));
            }
        });
    }
    for (std::thread& t : walkers) t.join();
    for (size_t w = 0; w < kWalkers; ++w) {
        ASSERT_EQ(got[w].size(), kRounds);
        for (size_t r = 0; r < kRounds; ++r) {
            EXPECT_EQ(got[w][r], alone_[(w + r) % n]) << "walker " << w << " round " << r;
        }
    }
}

// Walks cut short after their first frame, thousands at once: each must start from the registers
// it was given (a session that kept "the registers of the walk in progress" in one place would
// hand one walk another's).
int first_pc(Dwfl_Frame* state, void* arg) {
    Dwarf_Addr pc = 0;
    if (dwfl_frame_pc(state, &pc, nullptr)) *static_cast<uint64_t*>(arg) = pc;
    return DWARF_CB_ABORT;
}

TEST_F(ConcurrentWalk, EveryWalkStartsFromItsOwnRegisters) {
    constexpr size_t kWalkers = 4;
    constexpr size_t kWalks = 20000;
    const size_t n = snapshot_.threads.size();
    std::vector<size_t> wrong(kWalkers, 0);
    std::vector<std::thread> walkers;
    for (size_t w = 0; w < kWalkers; ++w) {
        walkers.emplace_back([&, w] {
            for (size_t i = 0; i < kWalks; ++i) {
                const Thread& t = snapshot_.threads[(w + i) % n];
                uint64_t pc = 0;
                session_->walk(t.regs, &first_pc, &pc);
                if (pc != t.regs.pc()) ++wrong[w];
            }
        });
    }
    for (std::thread& t : walkers) t.join();
    for (size_t w = 0; w < kWalkers; ++w) EXPECT_EQ(wrong[w], 0u) << "walker " << w;
}

// A walk started from inside another walk's frame callback.
struct Nested {
    DwflSession* session = nullptr;
    const CpuContext* inner = nullptr;
    size_t outer_frames = 0;
    int inner_result = -2;
    size_t inner_frames = 0;
};

int count_frame(Dwfl_Frame*, void* arg) {
    ++*static_cast<size_t*>(arg);
    return DWARF_CB_OK;
}

int walk_inside(Dwfl_Frame*, void* arg) {
    auto* nested = static_cast<Nested*>(arg);
    if (nested->outer_frames++ == 0) {
        nested->inner_result =
            nested->session->walk(*nested->inner, &count_frame, &nested->inner_frames);
    }
    return DWARF_CB_OK;
}

TEST_F(ConcurrentWalk, AWalkInsideAWalkUnwindsItsOwnRegisters) {
    size_t first_alone = 0, second_alone = 0;
    const int first_result = session_->walk(snapshot_.threads[0].regs, &count_frame, &first_alone);
    const int second_result =
        session_->walk(snapshot_.threads[1].regs, &count_frame, &second_alone);
    ASSERT_GE(first_alone, 1u);
    ASSERT_GE(second_alone, 1u);

    Nested nested;
    nested.session = session_.get();
    nested.inner = &snapshot_.threads[1].regs;
    EXPECT_EQ(session_->walk(snapshot_.threads[0].regs, &walk_inside, &nested), first_result);
    EXPECT_EQ(nested.outer_frames, first_alone);
    EXPECT_EQ(nested.inner_result, second_result);
    EXPECT_EQ(nested.inner_frames, second_alone);
}

}  // namespace
}  // namespace dumpscope::analysis
