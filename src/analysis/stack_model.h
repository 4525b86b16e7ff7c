// What the analysis knows about a thread's stack: frames with how each was found (trust, the
// words of minidump-stackwalk) and what the symbols say about its address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dumpscope::analysis {

enum class FrameTrust {
    kContext,       // the saved registers
    kCfi,           // unwound with DWARF call frame information (.eh_frame / .debug_frame)
    kFramePointer,  // unwound through the rbp chain
    kScan,          // found by scanning the stack for a return address
};

// "context", "cfi", "frame_pointer", "scan".
const char* trust_name(FrameTrust trust);

// A function inlined at a frame's address, innermost first.
struct InlineCall {
    std::string function;
    std::string file;
    int line = 0;
};

struct Frame {
    uint64_t pc = 0;  // the instruction pointer; for callers, the return address
    uint64_t sp = 0;
    FrameTrust trust = FrameTrust::kContext;
    bool activation = true;  // pc is the next instruction to run (frame 0, signal frames)

    std::string module;  // file name of the module, "" if pc is in none
    uint64_t module_base = 0;
    std::string function;          // "" without symbols
    uint64_t function_offset = 0;  // pc - function start
    std::string file;              // "" without line information
    int line = 0;
    std::vector<InlineCall> inlines;  // functions inlined at pc, innermost first

    uint64_t module_offset() const { return pc - module_base; }
    // The address symbols are looked up at: a return address points after the call.
    uint64_t lookup_pc() const { return activation || pc == 0 ? pc : pc - 1; }
};

struct ThreadStack {
    int32_t tid = 0;
    std::string name;
    std::vector<Frame> frames;
    bool truncated = false;  // the walk stopped at its frame limit: the stack goes on
};

}  // namespace dumpscope::analysis
