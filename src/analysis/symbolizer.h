// Names a frame's address: module and offset from the snapshot's module list; function+offset,
// file:line and inlined calls from the module's files through libdwfl (only modules whose files
// match the dump's build-id are reported to libdwfl, so a mismatched file never names a frame).
#pragma once

#include <cstdint>
#include <string>

#include "analysis/dwfl_session.h"
#include "analysis/stack_model.h"

namespace dumpscope::analysis {

// Fills the module, function, file/line and inline fields of `frame` from frame.pc.
void symbolize(const DwflSession& session, Frame& frame);

// "name" demangled when it is a C++ (Itanium ABI) name.
std::string demangle(const char* name);

}  // namespace dumpscope::analysis
