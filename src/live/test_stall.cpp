#include "live/test_stall.h"

#if DUMPSCOPE_TEST_HOOKS

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace dumpscope {

void test_stall_point(const char* point) {
    const char* wanted = std::getenv("DUMPSCOPE_TEST_STALL");
    if (wanted == nullptr || std::strcmp(wanted, point) != 0) return;
    const std::string line = std::string("dumpscope: stalled at ") + point + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    for (;;) ::pause();
}

}  // namespace dumpscope

#endif  // DUMPSCOPE_TEST_HOOKS
