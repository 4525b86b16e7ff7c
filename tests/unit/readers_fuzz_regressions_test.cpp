// The fuzz corpus and every input that once crashed a reader (tests/fuzz/crashers), read by the
// normal build: corpus seeds are valid dumps and read back; crashers are read without crashing,
// and when rejected the error is one line naming the file.
#include <gtest/gtest.h>

#include <filesystem>

#include "elfcore/core_reader.h"
#include "minidump/minidump_reader.h"

namespace dumpscope {
namespace {

namespace fs = std::filesystem;
const fs::path kFuzzDir = fs::path(DUMPSCOPE_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().filename() != "README.md") {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<Snapshot> read_as(const std::string& reader, const fs::path& path) {
    return reader == "minidump" ? read_minidump(path.string()) : read_elf_core(path.string());
}

class FuzzInputs : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzInputs, CorpusSeedsAreValidDumps) {
    const auto seeds = files_in(kFuzzDir / "corpus" / GetParam());
    ASSERT_FALSE(seeds.empty()) << "no seeds in " << (kFuzzDir / "corpus" / GetParam());
    for (const fs::path& seed : seeds) {
        auto snapshot = read_as(GetParam(), seed);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        EXPECT_FALSE(snapshot->threads.empty()) << seed;
        EXPECT_NE(snapshot->memory, nullptr) << seed;
    }
}

TEST_P(FuzzInputs, CrashersAreReadOrRejectedWithOneLine) {
    for (const fs::path& input : files_in(kFuzzDir / "crashers" / GetParam())) {
        auto snapshot = read_as(GetParam(), input);
        if (snapshot.ok()) {
            uint8_t byte = 0;
            for (const Mapping& m : snapshot->mappings) {
                if (snapshot->memory) (void)snapshot->memory->read(m.start, {&byte, 1});
            }
            continue;
        }
        EXPECT_EQ(snapshot.error().message.find('\n'), std::string::npos) << input;
        EXPECT_NE(snapshot.error().message.find(input.string()), std::string::npos) << input;
    }
}

INSTANTIATE_TEST_SUITE_P(Readers, FuzzInputs, ::testing::Values("minidump", "core"));

}  // namespace
}  // namespace dumpscope
