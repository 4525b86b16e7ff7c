// The C++ exception a thread is terminating for, read from the dump. libstdc++ (the Itanium C++
// ABI) puts a header below every thrown object: a __cxa_exception whose first field is the
// thrown type's std::type_info and whose last is the _Unwind_Exception, tagged "GNUCC++\0" (a
// primary exception) or "GNUCC++\1" (a dependent one, rethrown through std::exception_ptr,
// which points to its primary). The stack of a thread in std::terminate (and the registers)
// hold pointers to the object or to that unwind header; the type_info names the type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analysis/dump_analysis.h"
#include "snapshot/snapshot.h"

namespace dumpscope::diagnosis {

struct ThrownException {
    uint64_t object = 0;     // the thrown object
    uint64_t type_info = 0;  // its std::type_info
    std::string type;        // demangled: "ConfigError", "std::out_of_range", "int"
    std::string what;        // what() of a std::runtime_error or std::logic_error, else ""
};

// The exception whose header a word of the context's registers or of the stack above its stack
// pointer (64 KiB at most) points to; nullopt when none does or its type cannot be named.
std::optional<ThrownException> find_thrown_exception(analysis::DumpAnalysis& dump,
                                                     const CpuContext& context);

}  // namespace dumpscope::diagnosis
