// What the API and the pages both do with agents: ask one for its processes (and wait for the
// answer), and queue a collection after checking every field of the request.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "service/agent_hub.h"

namespace dumpscope::service {

// An agent is online when it polled within this many milliseconds (a poll is held 25 s).
inline constexpr int64_t kAgentOnlineMs = 60'000;
inline constexpr std::chrono::seconds kProcessAnswerTimeout{10};

struct AgentAnswer {
    int status = 500;     // 200, 404 (no such agent), 503 (offline), 504 (no answer), 500
    nlohmann::json body;  // the agent's answer {processes: [...]}, or {error}
};

AgentAnswer ask_processes(AgentHub& hub, const std::string& agent);

// `request`: {target, type ("mini"), compress (true), trigger ({})}; unknown keys are refused.
// 202 {id, status: pending}; 400 with the reason; 404 for an unknown agent; 500.
AgentAnswer queue_collection(AgentHub& hub, const std::string& agent,
                             const nlohmann::json& request);

nlohmann::json agent_json(const AgentRecord& agent, int64_t now);
nlohmann::json collection_json(const CollectionRecord& collection);

}  // namespace dumpscope::service
