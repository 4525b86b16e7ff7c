#include "diagnosis/frames.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

#include "analysis/symbolizer.h"
#include "common/paths.h"

namespace dumpscope::diagnosis {

namespace {

constexpr std::array<std::string_view, 8> kRuntimeModules = {
    "libc.so", "ld-linux",   "libstdc++.so", "libgcc_s.so",
    "libm.so", "libpthread", "linux-vdso",   "libc++.so"};

// Frames that report a failure (Socorro's "irrelevant" list for Linux).
constexpr std::array<std::string_view, 24> kMachinery = {
    "raise",
    "abort",
    "__assert_fail",
    "__assert_fail_base",
    "__assert_perror_fail",
    "__libc_message",
    "__libc_message_impl",
    "__fortify_fail",
    "__chk_fail",
    "__stack_chk_fail",
    "malloc_printerr",
    "pthread_kill",
    "__pthread_kill",
    "__pthread_kill_implementation",
    "__pthread_kill_internal",
    "__restore_rt",
    "std::terminate()",
    "std::terminate",
    "__cxxabiv1::__terminate",
    "__gnu_cxx::__verbose_terminate_handler",
    "__cxa_throw",
    "__cxa_rethrow",
    "_Unwind_RaiseException",
    "killpg",
};

// Frames kept in a signature and followed by their caller (Socorro's "prefix" list).
constexpr std::array<std::string_view, 22> kPrefix = {
    "malloc",       "free",        "calloc",        "realloc",    "_int_free",    "_int_malloc",
    "_int_realloc", "memcpy",      "memmove",       "memset",     "memcmp",       "strlen",
    "strcpy",       "strcmp",      "strncpy",       "strchr",     "operator new", "operator delete",
    "cfree",        "__libc_free", "__libc_malloc", "tcache_put",
};

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// "lock_a_then_b(int, char*)" -> "lock_a_then_b"; "std::vector<int>::at(unsigned long) const"
// -> "std::vector<int>::at".
std::string without_parameters(const std::string& function) {
    int depth = 0;
    for (size_t i = 0; i < function.size(); ++i) {
        const char c = function[i];
        if (c == '<') ++depth;
        if (c == '>' && depth > 0) --depth;
        if (c == '(' && depth == 0 && i > 0 &&
            !starts_with(std::string_view(function).substr(i), "(anonymous namespace)"))
            return function.substr(0, i);
    }
    return function;
}

// Unversioned, without glibc's internal prefixes: "__GI_raise" -> "raise",
// "__GI___pthread_kill" -> "__pthread_kill".
std::string plain_name(const std::string& function) {
    std::string name = without_parameters(function);
    if (starts_with(name, "__GI_")) name = name.substr(5);
    return name;
}

bool in_list(const std::string& name, const auto& list) {
    for (std::string_view entry : list)
        if (name == entry) return true;
    return false;
}

bool is_prefix_frame(const analysis::Frame& frame) {
    const std::string name = plain_name(frame.function);
    if (in_list(name, kPrefix)) return true;
    // The libc's CPU-specific string functions: __memmove_avx_unaligned_erms, __strlen_avx2.
    for (std::string_view family : {"__memmove_", "__memcpy_", "__memset_", "__strlen_",
                                    "__strcmp_", "__memcmp_", "__strcpy_", "__strchr_"})
        if (starts_with(name, family)) return true;
    return false;
}

}  // namespace

FrameRef frame_ref(const analysis::Frame& frame) {
    FrameRef ref;
    ref.pc = frame.pc;
    ref.module = frame.module;
    ref.module_offset = frame.module.empty() ? 0 : frame.module_offset();
    ref.function = frame.function;
    ref.function_offset = frame.function_offset;
    ref.file = frame.file;
    ref.line = frame.line;
    return ref;
}

std::string frame_text(const FrameRef& frame) {
    std::string text;
    if (frame.module.empty())
        text = fmt::format("{:#x}", frame.pc);
    else if (frame.function.empty())
        text = fmt::format("{}+{:#x}", frame.module, frame.module_offset);
    else
        text = fmt::format("{}!{}+{:#x}", frame.module, frame.function, frame.function_offset);
    if (!frame.file.empty()) text += fmt::format(" [{}:{}]", base_name(frame.file), frame.line);
    return text;
}

nlohmann::json frame_json(const FrameRef& frame) {
    nlohmann::json j = {{"offset", fmt::format("{:#018x}", frame.pc)}};
    j["module"] = frame.module.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.module);
    j["module_offset"] = frame.module.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(fmt::format("{:#018x}", frame.module_offset));
    j["function"] =
        frame.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.function);
    j["function_offset"] = frame.function.empty()
                               ? nlohmann::json(nullptr)
                               : nlohmann::json(fmt::format("{:#018x}", frame.function_offset));
    j["file"] = frame.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.file);
    j["line"] = frame.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.line);
    return j;
}

bool is_runtime_frame(const analysis::Frame& frame) {
    for (std::string_view module : kRuntimeModules)
        if (starts_with(frame.module, module)) return true;
    return false;
}

bool is_failure_machinery(const analysis::Frame& frame) {
    if (frame.function.empty()) return false;
    const std::string name = plain_name(frame.function);
    return in_list(name, kMachinery) || starts_with(name, "__assert_fail") ||
           starts_with(name, "std::__terminate");
}

std::optional<size_t> first_own_frame(const std::vector<analysis::Frame>& frames) {
    for (size_t i = 0; i < frames.size(); ++i) {
        const analysis::Frame& f = frames[i];
        if (f.module.empty() || is_runtime_frame(f) || is_failure_machinery(f)) continue;
        return i;
    }
    return std::nullopt;
}

std::string crash_signature(const std::vector<analysis::Frame>& frames) {
    std::string signature;
    constexpr size_t kMaxPrefixFrames = 10;
    size_t kept = 0;
    for (const analysis::Frame& f : frames) {
        if (is_failure_machinery(f)) continue;
        if (f.function.empty() && (f.module.empty() || is_runtime_frame(f))) continue;
        const std::string part = f.function.empty()
                                     ? fmt::format("{}@{:#x}", f.module, f.module_offset())
                                     : plain_name(f.function);
        signature += (signature.empty() ? "" : " | ") + part;
        if (!is_prefix_frame(f) || ++kept >= kMaxPrefixFrames) break;
    }
    return signature;
}

std::string stack_text(const std::vector<analysis::Frame>& frames, size_t max_frames) {
    std::string out;
    for (size_t i = 0; i < frames.size() && i < max_frames; ++i)
        out += fmt::format("    #{:<2} {}\n", i, frame_text(frame_ref(frames[i])));
    if (frames.size() > max_frames)
        out += fmt::format("    ... {} more frames\n", frames.size() - max_frames);
    return out;
}

}  // namespace dumpscope::diagnosis
