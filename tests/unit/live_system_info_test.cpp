// The system information of this machine, read as a live capture reads it.
#include <gtest/gtest.h>

#include "live/system_info.h"

namespace dumpscope {
namespace {

TEST(LiveSystemInfo, ReadsThisMachine) {
    auto info = read_system_info();
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->sysname, "Linux");
    EXPECT_EQ(info->machine, "x86_64");
    EXPECT_GE(info->cpu_count, 1u);
    EXPECT_EQ(info->page_size, 4096u);
    EXPECT_GT(info->boot_time_unix, 1'000'000'000u);
    EXPECT_FALSE(info->cpu_vendor.empty());
    EXPECT_FALSE(info->cpuinfo.empty());
}

}  // namespace
}  // namespace dumpscope
