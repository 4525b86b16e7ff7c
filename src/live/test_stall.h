// Fault injection for the clone tests: SIGKILL dumpscope at an exact step of the injection.
// Compiled in only with -DDUMPSCOPE_TEST_HOOKS=ON (the Makefile's test build): there, when the
// environment variable DUMPSCOPE_TEST_STALL equals `point`, dumpscope writes
// "dumpscope: stalled at <point>" to stderr and sleeps until it is killed. In every other build
// test_stall_point() is an empty inline function: the product carries no hook.
#pragma once

namespace dumpscope {

#if DUMPSCOPE_TEST_HOOKS
void test_stall_point(const char* point);
#else
inline void test_stall_point(const char* /*point*/) {}
#endif

}  // namespace dumpscope
