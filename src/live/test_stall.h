// Fault injection for the clone tests: SIGKILL dumpscope at an exact step of the injection.
// When the environment variable DUMPSCOPE_TEST_STALL equals `point`, dumpscope writes
// "dumpscope: stalled at <point>" to stderr and sleeps until it is killed. Unset (always, outside
// tests), this is one getenv() per call.
#pragma once

namespace dumpscope {

void test_stall_point(const char* point);

}  // namespace dumpscope
