// dumpscope_last_error(): why the calling thread's last failed C API call failed.
#pragma once

#include <string>

namespace dumpscope {

// This thread's message (the C functions set it; "" after a success).
std::string& last_error();

}  // namespace dumpscope
