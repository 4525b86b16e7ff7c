// JSON read back from a dump is input like any other: nlohmann converts a floating-point number
// to an integer field with undefined behaviour when it is out of range (found by fuzzing the
// core reader). Records whose integer fields hold non-integers are rejected before any field is
// read.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string_view>

namespace dumpscope {

// True if a floating-point number appears anywhere in `j` except as the value of one of the
// `float_keys` (fields that are floating-point by design), or if `j` nests deeper than any
// record we write (a hostile "[[[[..." would otherwise exhaust the stack here).
inline bool has_unexpected_float(const nlohmann::json& j,
                                 std::initializer_list<std::string_view> float_keys = {},
                                 int depth = 0) {
    constexpr int kMaxDepth = 32;
    if (depth > kMaxDepth) return true;
    if (j.is_number_float()) return true;
    if (j.is_array()) {
        for (const auto& item : j) {
            if (has_unexpected_float(item, float_keys, depth + 1)) return true;
        }
    }
    if (j.is_object()) {
        for (const auto& [key, value] : j.items()) {
            bool allowed = false;
            for (std::string_view k : float_keys) allowed = allowed || k == key;
            if (allowed && value.is_number()) continue;
            if (has_unexpected_float(value, float_keys, depth + 1)) return true;
        }
    }
    return false;
}

}  // namespace dumpscope
