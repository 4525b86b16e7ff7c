#include <gtest/gtest.h>

#include <string>

#include "procfs/thread_state.h"

namespace dumpscope {
namespace {

TEST(ThreadState, EveryLetterOfProcStatHasItsWord) {
    EXPECT_EQ(std::string(thread_state_word('R')), "running");
    EXPECT_EQ(std::string(thread_state_word('S')), "sleeping");
    EXPECT_EQ(std::string(thread_state_word('D')), "disk sleep");
    EXPECT_EQ(std::string(thread_state_word('T')), "stopped");
    EXPECT_EQ(std::string(thread_state_word('t')), "tracing stop");
    EXPECT_EQ(std::string(thread_state_word('Z')), "zombie");
    EXPECT_EQ(std::string(thread_state_word('X')), "dead");
    EXPECT_EQ(std::string(thread_state_word('I')), "idle");
}

TEST(ThreadState, AnyOtherLetterIsUnknown) {
    EXPECT_EQ(std::string(thread_state_word('?')), "unknown");
    EXPECT_EQ(std::string(thread_state_word('\0')), "unknown");
    EXPECT_EQ(std::string(thread_state_word('s')), "unknown");
}

}  // namespace
}  // namespace dumpscope
