// docs/dump-types.md documents every flag of the table the code uses.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "plan/dump_flags.h"

TEST(DumpTypesDoc, EveryFlagIsDocumentedWithItsValue) {
    std::ifstream in(std::string(DUMPSCOPE_SOURCE_DIR) + "/docs/dump-types.md");
    ASSERT_TRUE(in.good());
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& flag : dumpscope::all_dump_flags()) {
        char value[16];
        std::snprintf(value, sizeof value, "`0x%08x`", flag.value);
        const std::string row = "| `" + std::string(flag.name) + "` | " + value;
        EXPECT_NE(doc.find(row), std::string::npos) << flag.name;
    }
}
