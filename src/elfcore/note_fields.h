// Reading fields out of a core note's descriptor (CoreNote::desc), for the reader and the
// summary: the callers check the descriptor's size first and report a short one with
// short_note().
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "common/result.h"
#include "elfcore/core_format.h"
#include "elfcore/core_view.h"
#include "elfcore/note_names.h"
#include "snapshot/snapshot.h"

namespace dumpscope::elfcore {

// A T copied from `offset` (the caller checked offset + sizeof(T) <= bytes.size()).
template <typename T>
T load(std::span<const uint8_t> bytes, size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

// The text up to the first NUL, or all of `bytes` when there is none.
inline std::string bounded_string(std::span<const uint8_t> bytes) {
    const auto* text = reinterpret_cast<const char*>(bytes.data());
    return std::string(text, strnlen(text, bytes.size()));
}

inline Error short_note(const CoreNote& note, size_t needed) {
    return Error{fmt::format("{} note at {:#x} has {} bytes, expected at least {}",
                             note_type_name(note.owner, note.type), note.desc_offset,
                             note.desc.size(), needed)};
}

// NT_SIGINFO: the signal, with the fault address for a fault signal raised by the kernel
// (si_code > 0), else the sender's pid.
Result<SignalInfo> decode_siginfo(const CoreNote& note);

// NT_PRPSINFO, the fields both readers use; `args` is psargs without its trailing spaces (the
// command line with spaces for NULs, cut at 80 bytes by the kernel).
struct PsInfo {
    elfcore::CorePrPsInfo raw;
    std::string name;
    std::string args;
};
Result<PsInfo> decode_prpsinfo(const CoreNote& note);

}  // namespace dumpscope::elfcore
