// The small path and alignment helpers of src/common that every layer shares.
#include <gtest/gtest.h>

#include "common/align.h"
#include "common/paths.h"

namespace dumpscope {
namespace {

TEST(CommonBaseName, IsTheLastComponentOfAPath) {
    EXPECT_EQ(base_name("/usr/lib/x86_64-linux-gnu/libc.so.6"), "libc.so.6");
    EXPECT_EQ(base_name("libc.so.6"), "libc.so.6");
    EXPECT_EQ(base_name("/dir/"), "");
    EXPECT_EQ(base_name(""), "");
    EXPECT_EQ(base_name("/memfd:jit (deleted)"), "memfd:jit (deleted)");
}

TEST(CommonAlignUp, RoundsUpToAnyMultiple) {
    EXPECT_EQ(align_up(0, 4096), 0u);
    EXPECT_EQ(align_up(1, 4096), 4096u);
    EXPECT_EQ(align_up(4096, 4096), 4096u);
    EXPECT_EQ(align_up(4097, 4096), 8192u);
    EXPECT_EQ(align_up(5, 4), 8u);
    EXPECT_EQ(align_up(7, 3), 9u) << "not only powers of two";
    static_assert(align_up(13, 8) == 16, "usable in constant expressions");
}

}  // namespace
}  // namespace dumpscope
