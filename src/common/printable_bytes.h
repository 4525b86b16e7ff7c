// Names and paths from a process are bytes (comm, thread names, file names, argv): nothing
// makes them valid UTF-8. Every text and JSON output shows them through printable_bytes, one
// way everywhere: valid UTF-8 as it is, each other byte (and each control character) as \xHH,
// and a backslash as \\ so that the escaping can be undone.
#pragma once

#include <string>
#include <string_view>

namespace dumpscope {

std::string printable_bytes(std::string_view bytes);

// The bytes printable_bytes was given back from its output (\\ and \xHH undone; anything
// else is kept as it is).
std::string bytes_from_printable(std::string_view text);

}  // namespace dumpscope
