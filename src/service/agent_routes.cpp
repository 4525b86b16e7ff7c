#include "service/agent_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <string>

#include "service/agent_actions.h"
#include "service/agent_request.h"
#include "service/crash_id.h"
#include "service/json_answer.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxSmallBody = 64 << 10;
constexpr size_t kMaxProcessAnswer = 8 << 20;
constexpr std::chrono::seconds kPollHold{25};
constexpr size_t kMaxAllowList = 256;
constexpr size_t kMaxErrorText = 4096;

// The agent the path names, or "" with 404 answered.
std::string agent_name_of(const httplib::Request& request, httplib::Response& response) {
    std::string name = request.matches[1];
    if (!is_agent_name(name)) {
        answer_error(response, 404, "no such agent (a name is [A-Za-z0-9._-]{1,64})");
        return "";
    }
    return name;
}

// The body's "session" (32 hex digits, made by the agent), or "" with 400 answered.
std::string session_of(const json& body, httplib::Response& response) {
    if (!body.contains("session") || !body["session"].is_string() ||
        !is_crash_id(body["session"].get<std::string>())) {
        answer_error(response, 400, "session must be 32 hexadecimal digits");
        return "";
    }
    return body["session"].get<std::string>();
}

// Checks the agent is registered with this session (updating last_seen); false with 404
// {register: true} answered otherwise.
bool known_session(ServiceContext& context, const std::string& name, const std::string& session,
                   httplib::Response& response) {
    auto touched = context.agents->store().touch(name, session, now_ms());
    if (!touched.ok()) {
        answer_internal(response, touched.error());
        return false;
    }
    if (!*touched)
        answer_json(response, 404,
                    json{{"error", "agent " + name + " is not registered with this session"},
                         {"register", true}});
    return *touched;
}

std::optional<std::string> text_field(const json& body, const char* key, size_t max,
                                      httplib::Response& response) {
    if (!body.contains(key) || !body[key].is_string() ||
        !is_short_text(body[key].get<std::string>(), max)) {
        answer_error(response, 400,
                     fmt::format("{} must be a string of at most {} printable bytes", key, max));
        return std::nullopt;
    }
    return body[key].get<std::string>();
}

void register_agent(ServiceContext& context, const httplib::Request& request,
                    httplib::Response& response) {
    const std::string name = agent_name_of(request, response);
    if (name.empty()) return;
    auto body = json_body(request, response, kMaxSmallBody);
    if (!body) return;
    const std::string session = session_of(*body, response);
    if (session.empty()) return;
    AgentInfo info;
    info.name = name;
    auto host = text_field(*body, "host", 255, response);
    if (!host) return;
    auto kernel = text_field(*body, "kernel", 255, response);
    if (!kernel) return;
    auto version = text_field(*body, "version", 255, response);
    if (!version) return;
    info.host = *host;
    info.kernel = *kernel;
    info.version = *version;
    if (body->contains("allow")) {
        const json& allow = (*body)["allow"];
        if (!allow.is_array() || allow.size() > kMaxAllowList)
            return answer_error(
                response, 400,
                fmt::format("allow must be a list of at most {} process names", kMaxAllowList));
        for (const json& item : allow) {
            if (!item.is_string() ||
                item.get<std::string>().find_first_not_of("0123456789") == std::string::npos)
                return answer_error(response, 400, "allow must hold process names");
            auto checked = check_target(item);
            if (!checked.ok())
                return answer_error(response, 400, "allow: " + checked.error().message);
            info.allow.push_back(*checked);
        }
    }
    auto interrupted = context.agents->store().register_agent(info, session, now_ms());
    if (!interrupted.ok()) return answer_internal(response, interrupted.error());
    if (*interrupted > 0)
        fmt::print(stderr,
                   "dumpscope server: agent {} restarted: {} running collection(s) failed\n", name,
                   *interrupted);
    answer_json(response, 200, json{{"name", name}, {"registered", true}});
}

void poll(ServiceContext& context, const httplib::Request& request, httplib::Response& response) {
    const std::string name = agent_name_of(request, response);
    if (name.empty()) return;
    auto body = json_body(request, response, kMaxSmallBody);
    if (!body) return;
    const std::string session = session_of(*body, response);
    if (session.empty()) return;
    AgentHub& hub = *context.agents;
    const auto deadline = Clock::now() + kPollHold;
    for (;;) {
        const uint64_t seen = hub.generation();
        if (!known_session(context, name, session, response)) return;
        auto work = hub.store().claim_work(name, now_ms());
        if (!work.ok()) return answer_internal(response, work.error());
        if (!work->empty() || Clock::now() >= deadline || hub.stopping()) {
            json collections = json::array();
            for (const CollectionRecord& c : work->collections)
                collections.push_back(collection_json(c));
            return answer_json(
                response, 200,
                json{{"processes", work->process_requests}, {"collections", collections}});
        }
        hub.wait(seen,
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    }
}

void answer_processes(ServiceContext& context, const httplib::Request& request,
                      httplib::Response& response) {
    const std::string name = agent_name_of(request, response);
    if (name.empty()) return;
    const std::string id = request.matches[2];
    if (!is_crash_id(id)) return answer_error(response, 404, "no such request");
    auto body = json_body(request, response, kMaxProcessAnswer);
    if (!body) return;
    const std::string session = session_of(*body, response);
    if (session.empty() || !known_session(context, name, session, response)) return;
    if (!body->contains("processes") || !(*body)["processes"].is_array())
        return answer_error(response, 400, "processes must be a list");
    json answer{{"agent", name}, {"processes", (*body)["processes"]}};
    auto stored = context.agents->store().answer_request(id, name, answer.dump());
    if (!stored.ok()) return answer_internal(response, stored.error());
    if (!*stored) return answer_error(response, 404, "no such request (it timed out)");
    context.agents->notify();
    answer_json(response, 200, json{{"stored", true}});
}

void report_collection(ServiceContext& context, const httplib::Request& request,
                       httplib::Response& response) {
    const std::string name = agent_name_of(request, response);
    if (name.empty()) return;
    const std::string id = request.matches[2];
    if (!is_crash_id(id)) return answer_error(response, 404, "no such collection");
    auto body = json_body(request, response, kMaxSmallBody);
    if (!body) return;
    const std::string session = session_of(*body, response);
    if (session.empty() || !known_session(context, name, session, response)) return;
    const std::string status = body->value("status", "");
    if (status != "done" && status != "failed")
        return answer_error(response, 400, "status must be done or failed");
    std::optional<std::string> crash_id, error;
    if (status == "done") {
        if (!body->contains("crash_id") || !(*body)["crash_id"].is_string() ||
            !is_crash_id((*body)["crash_id"].get<std::string>()))
            return answer_error(response, 400, "a done collection needs its crash_id");
        crash_id = (*body)["crash_id"].get<std::string>();
        auto crash = context.store.get(*crash_id);
        if (!crash.ok()) return answer_internal(response, crash.error());
        if (!crash->has_value()) return answer_error(response, 400, "no crash " + *crash_id);
    } else {
        auto text = text_field(*body, "error", kMaxErrorText, response);
        if (!text) return;
        error = *text;
    }
    auto finished = context.agents->store().finish_collection(id, name, status == "done", crash_id,
                                                              error, now_ms());
    if (!finished.ok()) return answer_internal(response, finished.error());
    if (!*finished)
        return answer_error(response, 409, "collection " + id + " is not running on " + name);
    answer_json(response, 200, json{{"id", id}, {"status", status}});
}

void list_agents(ServiceContext& context, httplib::Response& response) {
    auto agents = context.agents->store().agents();
    if (!agents.ok()) return answer_internal(response, agents.error());
    const int64_t now = now_ms();
    json out = json::array();
    for (const AgentRecord& a : *agents) out.push_back(agent_json(a, now));
    answer_json(response, 200, json{{"agents", out}});
}

void get_agent(ServiceContext& context, const httplib::Request& request,
               httplib::Response& response) {
    const std::string name = agent_name_of(request, response);
    if (name.empty()) return;
    auto agent = context.agents->store().agent(name);
    if (!agent.ok()) return answer_internal(response, agent.error());
    if (!agent->has_value()) return answer_error(response, 404, "no agent " + name);
    answer_json(response, 200, agent_json(**agent, now_ms()));
}

void send(httplib::Response& response, const AgentAnswer& answer) {
    answer_json(response, answer.status, answer.body);
}

void get_collection(ServiceContext& context, const httplib::Request& request,
                    httplib::Response& response) {
    const std::string id = request.matches[1];
    if (!is_crash_id(id))
        return answer_error(response, 404, "no such collection (an id is 32 hexadecimal digits)");
    auto collection = context.agents->store().collection(id);
    if (!collection.ok()) return answer_internal(response, collection.error());
    if (!collection->has_value()) return answer_error(response, 404, "no collection " + id);
    answer_json(response, 200, collection_json(**collection));
}

void list_collections(ServiceContext& context, const httplib::Request& request,
                      httplib::Response& response) {
    std::string agent;
    if (request.has_param("agent")) {
        agent = request.get_param_value("agent");
        if (!is_agent_name(agent))
            return answer_error(response, 400, "agent must be an agent name");
    }
    int64_t limit = 100;
    if (request.has_param("limit")) {
        const std::string text = request.get_param_value("limit");
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 1000)
            return answer_error(response, 400, "limit must be a number from 1 to 1000");
    }
    auto collections = context.agents->store().collections(agent, limit);
    if (!collections.ok()) return answer_internal(response, collections.error());
    json out = json::array();
    for (const CollectionRecord& c : *collections) out.push_back(collection_json(c));
    answer_json(response, 200, json{{"collections", out}});
}

}  // namespace

void add_agent_routes(httplib::Server& server, ServiceContext& context) {
    using Req = httplib::Request;
    using Res = httplib::Response;
    server.Get("/api/agents", [&context](const Req&, Res& res) { list_agents(context, res); });
    server.Get(R"(/api/agents/([^/]+))",
               [&context](const Req& req, Res& res) { get_agent(context, req, res); });
    server.Get(R"(/api/agents/([^/]+)/processes)", [&context](const Req& req, Res& res) {
        const std::string name = agent_name_of(req, res);
        if (!name.empty()) send(res, ask_processes(*context.agents, name));
    });
    server.Post(R"(/api/agents/([^/]+)/collect)", [&context](const Req& req, Res& res) {
        const std::string name = agent_name_of(req, res);
        if (name.empty()) return;
        auto body = json_body(req, res, kMaxSmallBody);
        if (body) send(res, queue_collection(*context.agents, name, *body));
    });
    server.Post(R"(/api/agents/([^/]+)/register)",
                [&context](const Req& req, Res& res) { register_agent(context, req, res); });
    server.Post(R"(/api/agents/([^/]+)/poll)",
                [&context](const Req& req, Res& res) { poll(context, req, res); });
    server.Post(R"(/api/agents/([^/]+)/answers/([^/]+))",
                [&context](const Req& req, Res& res) { answer_processes(context, req, res); });
    server.Post(R"(/api/agents/([^/]+)/collections/([^/]+))",
                [&context](const Req& req, Res& res) { report_collection(context, req, res); });
    server.Get(R"(/api/collections/([^/]+))",
               [&context](const Req& req, Res& res) { get_collection(context, req, res); });
    server.Get("/api/collections",
               [&context](const Req& req, Res& res) { list_collections(context, req, res); });
}

}  // namespace dumpscope::service
