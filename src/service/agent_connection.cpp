#include "service/agent_connection.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace dumpscope::service {

Result<AgentConnection> AgentConnection::create(std::string server, std::string token) {
    while (!server.empty() && server.back() == '/') server.pop_back();
    const bool http = server.rfind("http://", 0) == 0;
    const bool https = server.rfind("https://", 0) == 0;
    if (!http && !https) return Error{"--server must be http://HOST[:PORT] or https://..."};
    const std::string rest = server.substr(http ? 7 : 8);
    if (rest.empty() || rest.find('/') != std::string::npos)
        return Error{"--server takes no path: http://HOST[:PORT]"};
    if (token.empty()) return Error{"a token is needed: --token TOKEN or $DUMPSCOPE_TOKEN"};
    httplib::Client probe(server);
    if (!probe.is_valid())
        return Error{
            fmt::format("cannot make a client for {} (https needs a TLS-enabled "
                        "cpp-httplib)",
                        server)};
    return AgentConnection(std::move(server), std::move(token));
}

std::unique_ptr<httplib::Client> AgentConnection::client(std::chrono::seconds read_timeout) const {
    auto c = std::make_unique<httplib::Client>(server_);
    c->set_connection_timeout(std::chrono::seconds(10));
    c->set_read_timeout(read_timeout);
    c->set_write_timeout(std::chrono::seconds(30));
    c->set_default_headers(headers());
    return c;
}

std::string describe_answer(const httplib::Result& result) {
    if (!result) return "no answer (" + httplib::to_string(result.error()) + ")";
    const nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return fmt::format("status {}: {}", result->status, body["error"].get<std::string>());
    return fmt::format("status {}", result->status);
}

}  // namespace dumpscope::service
