#include "service/agent_request.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <vector>

#include "monitor/trigger_signals.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

constexpr int64_t kMaxPid = 4194304;  // PID_MAX_LIMIT on 64-bit kernels
constexpr std::array<const char*, 13> kTriggerKeys = {
    "crash", "crash_continue", "cpu",         "cpu_below", "mem",  "mem_below", "threads",
    "fds",   "hang",           "hang_thread", "signal",    "exit", "seconds"};
constexpr const char* kPollKey = "poll_ms";

std::string known_keys() {
    std::string out;
    for (const char* key : kTriggerKeys) out += std::string(out.empty() ? "" : ", ") + key;
    return out + ", " + kPollKey;
}

Result<double> number_of(const json& value, const std::string& key) {
    if (!value.is_number()) return Error{fmt::format("trigger '{}' must be a number", key)};
    const double number = value.get<double>();
    if (!std::isfinite(number) || number < 0)
        return Error{fmt::format("trigger '{}' must be a number >= 0", key)};
    return number;
}

Result<int64_t> integer_of(const json& value, const std::string& key, int64_t max) {
    if (!value.is_number_integer() && !value.is_number_unsigned())
        return Error{fmt::format("trigger '{}' must be a whole number", key)};
    const int64_t number = value.get<int64_t>();
    if (number < 0 || number > max)
        return Error{fmt::format("trigger '{}' must be from 0 to {}", key, max)};
    return number;
}

Result<bool> flag_of(const json& value, const std::string& key) {
    if (!value.is_boolean()) return Error{fmt::format("trigger '{}' must be true or false", key)};
    return value.get<bool>();
}

}  // namespace

bool is_agent_name(std::string_view text) {
    if (text.empty() || text.size() > 64) return false;
    for (const char c : text)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    return true;
}

bool is_short_text(std::string_view text, size_t max) {
    if (text.size() > max) return false;
    for (const char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

bool is_collection_type(std::string_view type) {
    return type == "mini" || type == "midi" || type == "full";
}

Result<std::string> check_target(const json& target) {
    if (target.is_number_integer() || target.is_number_unsigned()) {
        const int64_t pid = target.get<int64_t>();
        if (pid < 1 || pid > kMaxPid)
            return Error{fmt::format("target {} is not a PID (1 to {})", pid, kMaxPid)};
        return std::to_string(pid);
    }
    if (!target.is_string()) return Error{"target must be a PID or a process name"};
    const std::string text = target.get<std::string>();
    if (text.empty()) return Error{"target is empty: give a PID or a process name"};
    if (text.find_first_not_of("0123456789") == std::string::npos) {
        if (text.size() > 7 || std::stoll(text) < 1 || std::stoll(text) > kMaxPid)
            return Error{fmt::format("target {} is not a PID (1 to {})", text, kMaxPid)};
        return std::to_string(std::stoll(text));
    }
    if (text.size() > 255 || !is_short_text(text, 255) || text.find('/') != std::string::npos)
        return Error{
            "a target name is 1 to 255 characters without '/' or control characters (a process "
            "name, not a path)"};
    return text;
}

Result<TriggerOptions> trigger_options_from_json(const json& trigger) {
    TriggerOptions t;
    if (trigger.is_null()) return t;
    if (!trigger.is_object()) return Error{"trigger must be an object"};
    for (const auto& [key, value] : trigger.items()) {
        if (key == "crash" || key == "crash_continue" || key == "exit") {
            auto flag = flag_of(value, key);
            if (!flag.ok()) return flag.error();
            (key == "crash" ? t.crash : key == "exit" ? t.exit : t.crash_continue) = *flag;
        } else if (key == "cpu" || key == "cpu_below" || key == "hang" || key == "seconds") {
            auto number = number_of(value, key);
            if (!number.ok()) return number.error();
            if (key == "cpu") t.cpu_above = *number;
            if (key == "cpu_below") t.cpu_below = *number;
            if (key == "hang") t.hang_seconds = *number;
            if (key == "seconds") t.seconds = *number;
        } else if (key == "mem" || key == "mem_below") {
            auto mb = integer_of(value, key, int64_t{1} << 40);
            if (!mb.ok()) return mb.error();
            if (key == "mem")
                t.mem_above_mb = {static_cast<uint64_t>(*mb)};
            else
                t.mem_below_mb = static_cast<uint64_t>(*mb);
        } else if (key == "threads" || key == "fds") {
            auto n = integer_of(value, key, int64_t{1} << 31);
            if (!n.ok()) return n.error();
            (key == "threads" ? t.threads : t.fds) = *n;
        } else if (key == "hang_thread") {
            auto tid = integer_of(value, key, kMaxPid);
            if (!tid.ok()) return tid.error();
            t.hang_thread = static_cast<int32_t>(*tid);
        } else if (key == kPollKey) {
            auto ms = integer_of(value, key, 3600 * 1000);
            if (!ms.ok()) return ms.error();
            t.poll_ms = static_cast<uint32_t>(*ms);
        } else if (key == "signal") {
            std::vector<std::string> names;
            const json list = value.is_array() ? value : json::array({value});
            for (const json& item : list) {
                if (item.is_string())
                    names.push_back(item.get<std::string>());
                else if (item.is_number_integer())
                    names.push_back(std::to_string(item.get<int64_t>()));
                else
                    return Error{"trigger 'signal' takes signal names or numbers"};
            }
            if (names.empty()) return Error{"trigger 'signal' needs at least one signal"};
            auto signals = parse_signal_list(names);
            if (!signals.ok()) return Error{"trigger 'signal': " + signals.error().message};
            t.signals = *signals;
        } else {
            return Error{fmt::format("unknown trigger option '{}' (known: {})", key, known_keys())};
        }
    }
    if (t.crash_continue) t.crash = true;
    DS_TRY(t.validate());
    return t;
}

}  // namespace dumpscope::service
