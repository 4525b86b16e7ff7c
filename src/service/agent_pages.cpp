#include "service/agent_pages.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "diagnosis/html_text.h"
#include "service/agent_actions.h"
#include "service/agent_request.h"
#include "service/auth.h"
#include "service/crash_id.h"
#include "service/time_text.h"

namespace dumpscope::service {

namespace {

using diagnosis::html_text;
using nlohmann::json;

std::string agent_link(const std::string& name) {
    // Agent names are [A-Za-z0-9._-]: nothing to escape in a path.
    return fmt::format("<a href=\"/agents/{0}\">{0}</a>", name);
}

std::string collection_link(const std::string& id) {
    return fmt::format("<a href=\"/collections/{0}\"><code>{0}</code></a>", id);
}

std::string megabytes(const json& bytes) {
    return bytes.is_number() ? fmt::format("{:.1f} MB", bytes.get<double>() / 1e6) : "";
}

std::string collections_table(const std::vector<CollectionRecord>& collections) {
    std::string body =
        "<table><tr><th>Collection</th><th>Agent</th><th>Target</th><th>Type</th><th>Trigger</th>"
        "<th>Status</th><th>Created</th><th>Crash</th></tr>\n";
    for (const CollectionRecord& c : collections)
        body += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>"
            "<td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
            collection_link(c.id), agent_link(c.agent), html_text(c.target), html_text(c.type),
            html_text(c.trigger_json), c.status == "failed" ? "failed" : "", html_text(c.status),
            iso_time(c.created_ms),
            c.crash_id ? fmt::format("<a href=\"/crashes/{0}\"><code>{0}</code></a>", *c.crash_id)
                       : "&mdash;");
    return body + "</table>\n";
}

}  // namespace

std::string AgentPages::csrf_token(const httplib::Request& request) {
    const std::string session = pages_.session_of(request);
    if (session.empty()) return "";
    std::lock_guard lock(mutex_);
    std::string& token = csrf_[session];
    if (token.empty()) {
        auto fresh = new_crash_id();
        if (fresh.ok()) token = *fresh;
    }
    return token;
}

bool AgentPages::csrf_valid(const httplib::Request& request) {
    if (bearer_authorized(request.get_header_value("Authorization"), context_.token)) return true;
    const std::string session = pages_.session_of(request);
    if (session.empty()) return false;
    std::lock_guard lock(mutex_);
    const auto token = csrf_.find(session);
    return token != csrf_.end() && !token->second.empty() &&
           token_equals(request.get_param_value("csrf"), token->second);
}

void AgentPages::agents_page(const httplib::Request& request, httplib::Response& response) {
    if (pages_.refuse(request, response)) return;
    auto agents = context_.agents->store().agents();
    if (!agents.ok()) return send_page(response, 500, "Error", "<p>Cannot read the agents.</p>");
    const int64_t now = now_ms();
    std::string body =
        "<p><a href=\"/collections\">Collections</a></p>\n<table><tr><th>Agent</th><th>Host</th>"
        "<th>Kernel</th><th>Version</th><th>Allowed processes</th><th>Last seen</th>"
        "<th>Online</th></tr>\n";
    for (const AgentRecord& a : *agents) {
        std::string allow;
        for (const std::string& name : a.info.allow)
            allow += (allow.empty() ? "" : ", ") + html_text(name);
        const bool online = now - a.last_seen_ms <= kAgentOnlineMs;
        body += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td class=\"{}\">{}</td></tr>\n",
            agent_link(a.info.name), html_text(a.info.host), html_text(a.info.kernel),
            html_text(a.info.version), allow.empty() ? "any" : allow, iso_time(a.last_seen_ms),
            online ? "" : "failed", online ? "online" : "offline");
    }
    body += "</table>\n";
    if (agents->empty())
        body +=
            "<p>No agent yet: run <code>dumpscope agent --server URL</code> on a machine.</p>\n";
    send_page(response, 200, "Agents", body);
}

void AgentPages::agent_page(const httplib::Request& request, httplib::Response& response) {
    if (pages_.refuse(request, response)) return;
    const std::string name = request.matches[1];
    auto agent = is_agent_name(name) ? context_.agents->store().agent(name)
                                     : Result<std::optional<AgentRecord>>(std::nullopt);
    if (!agent.ok()) return send_page(response, 500, "Error", "<p>Cannot read the agents.</p>");
    if (!agent->has_value()) return send_page(response, 404, "No such agent", "");
    const AgentRecord& a = **agent;
    std::string body = fmt::format(
        "<p><a href=\"/agents\">Agents</a> &middot; <a href=\"/collections?agent={0}\">Its "
        "collections</a></p>\n<table><tr><th>Host</th><td>{1}</td></tr><tr><th>Kernel</th><td>{2}"
        "</td></tr><tr><th>Version</th><td>{3}</td></tr><tr><th>Last seen</th><td>{4}</td></tr>"
        "</table>\n<h2>Processes</h2>\n",
        a.info.name, html_text(a.info.host), html_text(a.info.kernel), html_text(a.info.version),
        iso_time(a.last_seen_ms));
    const AgentAnswer answer = ask_processes(*context_.agents, name);
    if (answer.status != 200) {
        body += fmt::format("<p class=\"failed\">No process list: {}</p>\n",
                            html_text(answer.body.value("error", "no answer")));
        return send_page(response, 200, "Agent " + name, body);
    }
    const std::string csrf = csrf_token(request);
    body +=
        "<table><tr><th>PID</th><th>Name</th><th>User</th><th>Memory</th><th>CPU</th>"
        "<th>Command line</th><th></th></tr>\n";
    for (const json& p : answer.body.value("processes", json::array())) {
        if (!p.is_object() || !p.contains("pid") || !p["pid"].is_number_integer()) continue;
        const int64_t pid = p["pid"].get<int64_t>();
        std::string form = "not on the allow-list";
        if (p.value("allowed", false))
            form = fmt::format(
                "<form method=\"post\" action=\"/agents/{}/collect\"><input type=\"hidden\" "
                "name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"target\" value=\"{}\">"
                "<select name=\"type\" aria-label=\"dump type\"><option>mini</option>"
                "<option>midi</option><option>full</option></select> <button "
                "id=\"collect-{}\">Collect</button></form>",
                name, csrf, pid, pid);
        body += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}%</td><td><code>{}</code>"
            "</td><td>{}</td></tr>\n",
            pid, html_text(p.value("name", "")), html_text(p.value("user", "")),
            megabytes(p.value("rss_bytes", json())), p.value("cpu_percent", 0.0),
            html_text(p.value("cmdline", "")), form);
    }
    send_page(response, 200, "Agent " + name, body + "</table>\n");
}

void AgentPages::collect(const httplib::Request& request, httplib::Response& response) {
    if (context_.web_login->refuse_form(request, response)) return;  // cross-site, or no login
    if (!csrf_valid(request))
        return send_page(response, 403, "Refused",
                         "<p class=\"failed\">The form's token is not this session's: reload the "
                         "agent's page and try again.</p>");
    const std::string name = request.matches[1];
    json wanted{{"target", request.get_param_value("target")},
                {"type", request.has_param("type") ? request.get_param_value("type") : "mini"}};
    const AgentAnswer answer = queue_collection(*context_.agents, name, wanted);
    if (answer.status != 202)
        return send_page(response, answer.status, "Not collected",
                         fmt::format("<p class=\"failed\">{}</p>",
                                     html_text(answer.body.value("error", "refused"))));
    response.set_redirect("/collections/" + answer.body.value("id", ""), 303);
}

void AgentPages::collections_page(const httplib::Request& request, httplib::Response& response) {
    if (pages_.refuse(request, response)) return;
    const std::string agent = request.has_param("agent") ? request.get_param_value("agent") : "";
    if (!agent.empty() && !is_agent_name(agent))
        return send_page(response, 400, "No such agent", "");
    auto collections = context_.agents->store().collections(agent, 200);
    if (!collections.ok())
        return send_page(response, 500, "Error", "<p>Cannot read the collections.</p>");
    std::string body = "<p><a href=\"/agents\">Agents</a></p>\n";
    if (!agent.empty()) body += "<p>Agent: " + agent_link(agent) + "</p>\n";
    send_page(response, 200, "Collections", body + collections_table(*collections));
}

void AgentPages::collection_page(const httplib::Request& request, httplib::Response& response) {
    if (pages_.refuse(request, response)) return;
    const std::string id = request.matches[1];
    auto collection = is_crash_id(id) ? context_.agents->store().collection(id)
                                      : Result<std::optional<CollectionRecord>>(std::nullopt);
    if (!collection.ok())
        return send_page(response, 500, "Error", "<p>Cannot read the collections.</p>");
    if (!collection->has_value()) return send_page(response, 404, "No such collection", "");
    const CollectionRecord& c = **collection;
    std::string body = "<p><a href=\"/collections\">Collections</a></p>\n" + collections_table({c});
    if (c.error)
        body += fmt::format("<p class=\"failed\" id=\"error\">{}</p>\n", html_text(*c.error));
    send_page(response, 200, "Collection", body);
}

void AgentPages::add_routes(httplib::Server& server) {
    using Req = httplib::Request;
    using Res = httplib::Response;
    server.Get("/agents", [this](const Req& req, Res& res) { agents_page(req, res); });
    server.Get(R"(/agents/([^/]+))", [this](const Req& req, Res& res) { agent_page(req, res); });
    server.Post(R"(/agents/([^/]+)/collect)",
                [this](const Req& req, Res& res) { collect(req, res); });
    server.Get("/collections", [this](const Req& req, Res& res) { collections_page(req, res); });
    server.Get(R"(/collections/([^/]+))",
               [this](const Req& req, Res& res) { collection_page(req, res); });
}

}  // namespace dumpscope::service
