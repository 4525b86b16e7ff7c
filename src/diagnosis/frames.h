// Frames as findings use them: which frames are the program's own code (not libc's, the
// loader's, the C++ runtime's, nor abort/raise/assert machinery), the text and JSON of a frame,
// and the crash signature built Socorro's way from skip lists.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/stack_model.h"
#include "diagnosis/finding.h"

namespace dumpscope::diagnosis {

FrameRef frame_ref(const analysis::Frame& frame);

// "fixture_deadlock!lock_a_then_b+0x1c [fixture_deadlock.c:14]", "libc.so.6+0x8a3f".
std::string frame_text(const FrameRef& frame);
// The stack --json frame fields: module, module_offset, function, function_offset, file, line,
// offset (the pc).
nlohmann::json frame_json(const FrameRef& frame);

// True for frames of system runtime libraries (libc, the loader, libstdc++, libgcc_s, libm,
// libpthread, the vdso).
bool is_runtime_frame(const analysis::Frame& frame);
// True for frames that report a failure rather than cause it: raise, abort, __assert_fail,
// __libc_message, __stack_chk_fail, pthread_kill, malloc_printerr, std::terminate, ...
bool is_failure_machinery(const analysis::Frame& frame);

// The index of the first frame in the program's own code (neither runtime nor failure
// machinery), or nullopt.
std::optional<size_t> first_own_frame(const std::vector<analysis::Frame>& frames);

// Socorro-like signature: frames from the top, skipping failure machinery and unsymbolized
// runtime frames, keeping "prefix" frames (malloc, free, memcpy, ...) and joining them with
// " | " up to and including the first frame that is neither; function names without parameter
// lists; a frame without a function is "module@0xoffset". "" when no frame is usable.
std::string crash_signature(const std::vector<analysis::Frame>& frames);

// One line per frame, for a finding's evidence (at most `max_frames`).
std::string stack_text(const std::vector<analysis::Frame>& frames, size_t max_frames);

}  // namespace dumpscope::diagnosis
