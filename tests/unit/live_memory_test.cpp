// LiveMemorySource on a frozen child: reads a marker, stops at an unmapped page, reads past a
// page process_vm_readv refuses, and works through /proc/PID/mem alone.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "live/live_memory_source.h"
#include "live/process_freezer.h"
#include "live_test_child.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;
using testing::StandardReport;

class LiveMemoryTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(child_.read_report(&report_, sizeof(report_)));
        auto frozen = ProcessFreezer::freeze(child_.pid());
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        frozen_.emplace(std::move(frozen).value());
    }
    void TearDown() override { frozen_.reset(); }

    std::shared_ptr<LiveMemorySource> open_source(
        LiveMemorySource::Method method = LiveMemorySource::Method::kAuto) {
        auto source = LiveMemorySource::open(child_.pid(), method);
        EXPECT_TRUE(source.ok()) << source.error().message;
        return source.ok() ? *source : nullptr;
    }

    ChildProcess child_ = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report_{};
    std::optional<ProcessFreezer> frozen_;
    const size_t page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
};

uint64_t read_u64(const MemorySource& memory, uint64_t addr, size_t* count = nullptr) {
    uint64_t value = 0;
    auto got = memory.read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), 8));
    EXPECT_TRUE(got.ok());
    if (count != nullptr) *count = got.ok() ? *got : 0;
    return value;
}

TEST_F(LiveMemoryTest, ReadsTheChildsMarker) {
    auto source = open_source();
    ASSERT_TRUE(source);
    size_t count = 0;
    EXPECT_EQ(read_u64(*source, report_.marker_addr, &count), testing::kMarkerValue);
    EXPECT_EQ(count, 8u);
}

TEST_F(LiveMemoryTest, ReadsThroughProcMemOnly) {
    auto source = open_source(LiveMemorySource::Method::kProcMemOnly);
    ASSERT_TRUE(source);
    EXPECT_EQ(read_u64(*source, report_.marker_addr), testing::kMarkerValue);
}

TEST_F(LiveMemoryTest, ReturnsAShortCountAtAnUnmappedPage) {
    for (auto method : {LiveMemorySource::Method::kAuto, LiveMemorySource::Method::kProcMemOnly}) {
        auto source = open_source(method);
        ASSERT_TRUE(source);
        std::vector<uint8_t> buffer(2 * page_, 0xee);
        auto got = source->read(report_.unmapped_addr, buffer);
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_EQ(*got, page_);
        EXPECT_EQ(buffer[page_], 0xee) << "bytes not read must be left alone";
        // Starting inside the hole: nothing at all.
        got = source->read(report_.unmapped_addr + page_, std::span(buffer).first(16));
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, 0u);
    }
}

// The middle page is PROT_NONE: process_vm_readv refuses it, /proc/PID/mem reads it; the page
// after it (with the guard marker) must not be hidden.
TEST_F(LiveMemoryTest, APageRefusedByProcessVmReadvDoesNotHideTheRest) {
    auto source = open_source();
    ASSERT_TRUE(source);
    std::vector<uint8_t> buffer(3 * page_, 0);
    auto got = source->read(report_.guard_addr, buffer);
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(*got, 3 * page_);
    uint64_t guard = 0;
    std::memcpy(&guard, buffer.data() + 2 * page_, sizeof(guard));
    EXPECT_EQ(guard, testing::kGuardValue);
    EXPECT_EQ(buffer[page_ + 100], 0x5a) << "the PROT_NONE page still holds its bytes";
}

TEST_F(LiveMemoryTest, ReadsLargeRangesAcrossBatches) {
    auto source = open_source();
    ASSERT_TRUE(source);
    // A request longer than one batch that runs into the hole: the count still stops there.
    std::vector<uint8_t> buffer(page_ + LiveMemorySource::kBatchSize);
    auto got = source->read(report_.unmapped_addr, buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, page_);
}

TEST(LiveMemorySourceOpen, FailsForAMissingProcess) {
    ChildProcess child = ChildProcess::fork_with([](int, int) { ::_exit(0); });
    pid_t pid = child.pid();
    child.kill_and_reap();
    auto source = LiveMemorySource::open(pid);
    EXPECT_FALSE(source.ok());
}

}  // namespace
}  // namespace dumpscope
