// What the library and its helper exchange and store, as pure data: the annotation table and
// its stream, the helper's settings, the C API's stream lookup over bytes.
#include <dumpscope/dumpscope.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "api/handler_settings.h"
#include "api_read/annotation_table.h"

using namespace dumpscope;

namespace {

std::span<const uint8_t> bytes_of(const AnnotationTable& table) {
    return {reinterpret_cast<const uint8_t*>(&table), sizeof table};
}

TEST(AnnotationTable, SetReplaceRemoveAndRefuse) {
    auto table = std::make_unique<AnnotationTable>();
    const char* error = nullptr;
    ASSERT_TRUE(table->set("version", "1.0", &error));
    ASSERT_TRUE(table->set("request", "/index", &error));
    ASSERT_TRUE(table->set("version", "2.0", &error));  // replaces
    auto read = read_annotation_table(bytes_of(*table));
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(*read, (std::vector<std::pair<std::string, std::string>>{{"version", "2.0"},
                                                                       {"request", "/index"}}));
    ASSERT_TRUE(table->set("version", nullptr, &error));  // removes
    read = read_annotation_table(bytes_of(*table));
    ASSERT_EQ(read->size(), 1u);

    EXPECT_FALSE(table->set("", "x", &error));
    EXPECT_FALSE(table->set(std::string(64, 'k').c_str(), "x", &error));
    EXPECT_STREQ(error, "annotation keys are at most 63 bytes");
    EXPECT_FALSE(table->set("k", std::string(256, 'v').c_str(), &error));
    EXPECT_TRUE(table->set("k", std::string(255, 'v').c_str(), &error));
    for (int i = 0; i < 62; ++i)
        ASSERT_TRUE(table->set(("key" + std::to_string(i)).c_str(), "v", &error));
    EXPECT_FALSE(table->set("one-too-many", "v", &error));
    EXPECT_STREQ(error, "the annotation table is full (64 keys)");
}

TEST(AnnotationTable, ReadSkipsSlotsBeingWrittenAndRefusesOtherBytes) {
    auto table = std::make_unique<AnnotationTable>();
    const char* error = nullptr;
    table->set("a", "1", &error);
    table->set("b", "2", &error);
    table->slots[0].state.store(AnnotationSlot::kWriting);  // stopped in the middle of a set
    auto read = read_annotation_table(bytes_of(*table));
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
    std::vector<uint8_t> garbage(sizeof(AnnotationTable), 0x41);
    EXPECT_FALSE(read_annotation_table(garbage).ok());
    EXPECT_FALSE(read_annotation_table(std::span(garbage).first(100)).ok());
}

TEST(AnnotationsStream, RoundTripsAndRefusesCutEntries) {
    const std::vector<std::pair<std::string, std::string>> in = {{"k", "v"}, {"empty", ""}};
    const std::vector<uint8_t> bytes = encode_annotations_stream(in);
    auto out = decode_annotations_stream(bytes);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, in);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
        auto part = decode_annotations_stream(std::span(bytes).first(cut));
        EXPECT_FALSE(part.ok()) << "cut at " << cut;
    }
    std::vector<uint8_t> huge = bytes;
    huge[8] = 0xff, huge[9] = 0xff, huge[10] = 0xff, huge[11] = 0xff;  // key size 4 GiB
    EXPECT_FALSE(decode_annotations_stream(huge).ok());
}

TEST(HandlerSettings, RoundTripAndRefuseMalformed) {
    HandlerSettings s;
    s.pid = 123;
    s.dump_type = 0x41;
    s.dump_dir = "/var/dumps";
    s.upload_url = "http://host/submit";
    s.has_callback = true;
    s.leave_running = {7, 8};
    s.annotations_address = 0x7f0000001000;
    s.exception_tid = 124;
    s.siginfo_address = 0x1000;
    s.ucontext_address = 0x2000;
    s.user_streams = {UserStream::of(0x10000, {1, 2, 3}), UserStream::of(0x10001, {})};
    const std::vector<uint8_t> bytes = encode_settings(s);
    auto back = decode_settings(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->pid, 123);
    EXPECT_EQ(back->dump_dir, "/var/dumps");
    EXPECT_EQ(back->leave_running, (std::vector<int32_t>{7, 8}));
    EXPECT_EQ(back->annotations_address, 0x7f0000001000u);
    ASSERT_EQ(back->user_streams.size(), 2u);
    EXPECT_EQ(std::vector<uint8_t>(back->user_streams[0].bytes().begin(),
                                   back->user_streams[0].bytes().end()),
              (std::vector<uint8_t>{1, 2, 3}));
    for (size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_FALSE(
            decode_settings(std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut)).ok());
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode_settings(longer).ok());
}

TEST(ReadDumpStream, FindsStreamsInsideTheBytesOnly) {
    // Header (32 bytes), directory of two entries at 32, stream data after it.
    std::vector<uint8_t> dump(32 + 24 + 8, 0);
    auto put = [&](size_t at, uint32_t v) { std::memcpy(dump.data() + at, &v, 4); };
    put(0, 0x504d444d);
    put(8, 2);
    put(12, 32);
    put(32, 0x10000001), put(36, 5), put(40, 56);    // 5 bytes at 56
    put(44, 0x10000002), put(48, 100), put(52, 56);  // runs past the end
    std::memcpy(dump.data() + 56, "hello", 5);
    const void* stream = nullptr;
    uint32_t size = 0;
    ASSERT_TRUE(dumpscope_read_dump_stream(dump.data(), dump.size(), 0x10000001, &stream, &size));
    EXPECT_EQ(size, 5u);
    EXPECT_EQ(std::memcmp(stream, "hello", 5), 0);
    EXPECT_FALSE(dumpscope_read_dump_stream(dump.data(), dump.size(), 0x10000002, &stream, &size));
    EXPECT_STREQ(dumpscope_last_error(), "the stream runs past the end of the minidump");
    EXPECT_FALSE(dumpscope_read_dump_stream(dump.data(), dump.size(), 0x10000003, &stream, &size));
    EXPECT_FALSE(dumpscope_read_dump_stream(dump.data(), 40, 0x10000001, &stream, &size));
    put(0, 0);
    EXPECT_FALSE(dumpscope_read_dump_stream(dump.data(), dump.size(), 0x10000001, &stream, &size));
    EXPECT_STREQ(dumpscope_last_error(), "not a minidump: no MDMP signature");
}

}  // namespace
