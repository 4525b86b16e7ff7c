// Failures to produce a compressed dump's bytes after it was opened (a corrupt frame met while
// a reader touches the mapping, in the fault handler's thread): the bytes read as zeros, so
// every command must check this before it claims success. Process-wide, thread-safe.
#pragma once

#include <optional>
#include <string>

namespace dumpscope::compress {

void record_read_error(const std::string& message);
std::optional<std::string> first_read_error();

}  // namespace dumpscope::compress
