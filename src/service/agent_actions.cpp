#include "service/agent_actions.h"

#include <fmt/format.h>

#include "service/agent_request.h"
#include "service/crash_id.h"
#include "service/crash_store.h"
#include "service/time_text.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

AgentAnswer failure(int status, const std::string& message) {
    return {status, json{{"error", message}}};
}

AgentAnswer internal(const Error& error) {
    fmt::print(stderr, "dumpscope server: {}\n", error.message);
    return failure(500, "internal error (see the server's log)");
}

json optional_time(const std::optional<int64_t>& ms) {
    return ms ? json(iso_time(*ms)) : json(nullptr);
}

}  // namespace

json agent_json(const AgentRecord& agent, int64_t now) {
    return json{{"name", agent.info.name},
                {"host", agent.info.host},
                {"kernel", agent.info.kernel},
                {"version", agent.info.version},
                {"allow", agent.info.allow},
                {"registered_at", iso_time(agent.registered_ms)},
                {"last_seen", iso_time(agent.last_seen_ms)},
                {"online", now - agent.last_seen_ms <= kAgentOnlineMs}};
}

json collection_json(const CollectionRecord& c) {
    json trigger = json::parse(c.trigger_json, nullptr, false);
    if (trigger.is_discarded()) trigger = nullptr;
    return json{{"id", c.id},
                {"agent", c.agent},
                {"target", c.target},
                {"type", c.type},
                {"compress", c.compress},
                {"trigger", trigger},
                {"status", c.status},
                {"crash_id", c.crash_id ? json(*c.crash_id) : json(nullptr)},
                {"error", c.error ? json(*c.error) : json(nullptr)},
                {"created_at", iso_time(c.created_ms)},
                {"started_at", optional_time(c.started_ms)},
                {"finished_at", optional_time(c.finished_ms)}};
}

AgentAnswer ask_processes(AgentHub& hub, const std::string& name) {
    if (!is_agent_name(name)) return failure(404, "no such agent");
    auto agent = hub.store().agent(name);
    if (!agent.ok()) return internal(agent.error());
    if (!agent->has_value()) return failure(404, "no agent " + name);
    const int64_t now = now_ms();
    if (now - (*agent)->last_seen_ms > kAgentOnlineMs)
        return failure(503, fmt::format("agent {} is offline (last seen {})", name,
                                        iso_time((*agent)->last_seen_ms)));
    auto id = new_crash_id();
    if (!id.ok()) return internal(id.error());
    if (Status added = hub.store().add_request(*id, name, now); !added.ok())
        return internal(added.error());
    hub.notify();
    const auto deadline = Clock::now() + kProcessAnswerTimeout;
    AgentAnswer result = failure(504, fmt::format("agent {} did not answer within {} s", name,
                                                  kProcessAnswerTimeout.count()));
    while (Clock::now() < deadline && !hub.stopping()) {
        const uint64_t seen = hub.generation();
        auto answer = hub.store().request_answer(*id);
        if (!answer.ok()) {
            result = internal(answer.error());
            break;
        }
        if (answer->has_value()) {
            json body = json::parse(**answer, nullptr, false);
            result = body.is_object() ? AgentAnswer{200, std::move(body)}
                                      : failure(502, "the agent's answer is not JSON");
            break;
        }
        hub.wait(seen,
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    }
    if (Status removed = hub.store().remove_request(*id); !removed.ok())
        fmt::print(stderr, "dumpscope server: {}\n", removed.error().message);
    return result;
}

AgentAnswer queue_collection(AgentHub& hub, const std::string& name, const json& request) {
    if (!request.is_object()) return failure(400, "the body must be a JSON object");
    for (const auto& [key, value] : request.items())
        if (key != "target" && key != "type" && key != "compress" && key != "trigger")
            return failure(400,
                           fmt::format("unknown key '{}' (target, type, compress, trigger)", key));
    if (!request.contains("target")) return failure(400, "target is missing (a PID or a name)");
    auto target = check_target(request["target"]);
    if (!target.ok()) return failure(400, target.error().message);
    std::string type = "mini";
    if (request.contains("type")) {
        if (!request["type"].is_string() || !is_collection_type(request["type"].get<std::string>()))
            return failure(400, "type must be mini, midi or full");
        type = request["type"].get<std::string>();
    }
    bool compress = true;
    if (request.contains("compress")) {
        if (!request["compress"].is_boolean())
            return failure(400, "compress must be true or false");
        compress = request["compress"].get<bool>();
    }
    json trigger = request.value("trigger", json::object());
    if (trigger.is_null()) trigger = json::object();
    auto triggers = trigger_options_from_json(trigger);
    if (!triggers.ok()) return failure(400, triggers.error().message);

    if (!is_agent_name(name)) return failure(404, "no such agent");
    auto agent = hub.store().agent(name);
    if (!agent.ok()) return internal(agent.error());
    if (!agent->has_value()) return failure(404, "no agent " + name);
    auto id = new_crash_id();
    if (!id.ok()) return internal(id.error());
    CollectionRecord c;
    c.id = *id;
    c.agent = name;
    c.target = *target;
    c.type = type;
    c.compress = compress;
    c.trigger_json = trigger.dump();
    c.status = "pending";
    c.created_ms = now_ms();
    if (Status added = hub.store().add_collection(c); !added.ok()) return internal(added.error());
    hub.notify();
    return {202, json{{"id", c.id}, {"status", "pending"}}};
}

}  // namespace dumpscope::service
