// What a remote collection asks for, checked the same way by the server (before it is stored)
// and by the agent (before it runs): agent names, targets, dump types and the trigger object,
// whose keys are `dumpscope collect`'s trigger options (TriggerOptions, validated by
// TriggerOptions::validate()).
//   {"crash": true} {"cpu": 90, "seconds": 5} {"mem": 500} {"hang": 10} {"signal": ["USR1"]}
//   {"exit": true} ... plus "cpu_below", "mem_below", "threads", "fds", "hang_thread",
//   "crash_continue", "seconds", "poll_ms". Anything else is refused with a message.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "monitor/trigger_options.h"

namespace dumpscope::service {

// [A-Za-z0-9._-]{1,64}.
bool is_agent_name(std::string_view text);

// A PID (a JSON number or a string of digits, 1 to 4194304) or a process name (1 to 255
// characters, no '/', no control characters) -> its text form.
Result<std::string> check_target(const nlohmann::json& target);

// "mini", "midi" or "full".
bool is_collection_type(std::string_view type);

// The trigger object -> TriggerOptions, validated; {} (or null) is no trigger (a dump at once).
// One dump per collection: "count" is not an option and "mem" takes one threshold.
Result<TriggerOptions> trigger_options_from_json(const nlohmann::json& trigger);

// A short printable text from a client (host, kernel, version, ...): at most `max` bytes, no
// control characters.
bool is_short_text(std::string_view text, size_t max);

}  // namespace dumpscope::service
