// stream_dump_memory and the capture record a writer writes: the snapshot is read, never
// written; unreadable bytes become zeros and one note per range in the WriteRecord returned,
// which the caller merges into its record (record_to_write, merge_write_record).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "output/write_context.h"

namespace dumpscope {
namespace {

static_assert(
    std::is_same_v<decltype(&stream_dump_memory),
                   Result<WriteRecord> (*)(
                       const Snapshot&, const DumpContent&, const WriteContext&,
                       const std::function<Status(size_t, uint64_t, std::span<const uint8_t>)>&)>,
    "stream_dump_memory reads the snapshot and returns what it noted");

// The byte at addr is its low 8 bits, except on the page [0x3000, 0x4000), which cannot be read.
class HoledMemory : public MemorySource {
public:
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        size_t n = 0;
        for (; n < out.size() && !(addr + n >= 0x3000 && addr + n < 0x4000); ++n) {
            out[n] = static_cast<uint8_t>(addr + n);
        }
        return n;
    }
};

TEST(OutputWriteContext, UnreadableBytesAreZeroAndNotedInTheWriteRecordNotTheSnapshot) {
    Snapshot snapshot;
    snapshot.memory = std::make_shared<HoledMemory>();
    snapshot.capture.notes = {"from the source"};
    DumpContent content;
    content.memory = {{0x1000, 0x1000}, {0x2800, 0x2000}};  // the second holds the hole
    const Snapshot& reader_view = snapshot;

    std::map<size_t, std::vector<uint8_t>> got;
    auto written = stream_dump_memory(
        reader_view, content, {},
        [&](size_t range, uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            auto& out = got[range];
            if (out.size() < offset + bytes.size()) out.resize(offset + bytes.size());
            std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<ptrdiff_t>(offset));
            return {};
        });
    ASSERT_TRUE(written.ok()) << written.error().message;
    ASSERT_EQ(written->notes.size(), 1u);
    EXPECT_EQ(written->notes[0],
              "0x2800-0x4800: 4096 bytes could not be read and are zero in "
              "the dump");
    EXPECT_EQ(snapshot.capture.notes, std::vector<std::string>{"from the source"});
    ASSERT_EQ(got[1].size(), 0x2000u);
    EXPECT_EQ(got[1][0x7ff], 0xff);   // 0x2fff
    EXPECT_EQ(got[1][0x800], 0);      // 0x3000, unreadable
    EXPECT_EQ(got[1][0x17ff], 0);     // 0x3fff, unreadable
    EXPECT_EQ(got[1][0x1800], 0x00);  // 0x4000: readable, its low byte is 0
    EXPECT_EQ(got[1][0x1801], 0x01);

    // The record written: the caller's when it gives one, else the snapshot's; the write's notes
    // come after the record's own.
    EXPECT_EQ(record_to_write(snapshot, {}, *written).notes,
              (std::vector<std::string>{"from the source", written->notes[0]}));
    WriteContext ctx;
    ctx.capture_record = [](const WriteRecord& w) {
        CaptureRecord record;
        record.method = "reader";
        merge_write_record(record, w);
        return record;
    };
    const CaptureRecord from_caller = record_to_write(snapshot, ctx, *written);
    EXPECT_EQ(from_caller.method, "reader");
    EXPECT_EQ(from_caller.notes, written->notes);
}

}  // namespace
}  // namespace dumpscope
