// How `dumpscope agent` reaches its server: HTTP (cpp-httplib's client; https when the library
// was built with TLS) to scheme://host[:port], every request with `Authorization: Bearer TOKEN`.
// The agent only ever connects out.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace dumpscope::service {

class AgentConnection {
public:
    // `server`: http://HOST[:PORT] (a trailing '/' is dropped; no path).
    static Result<AgentConnection> create(std::string server, std::string token);

    // A new client (each thread uses its own) whose reads wait at most `read_timeout`.
    std::unique_ptr<httplib::Client> client(std::chrono::seconds read_timeout) const;
    httplib::Headers headers() const { return {{"Authorization", "Bearer " + token_}}; }
    const std::string& server() const { return server_; }

private:
    AgentConnection(std::string server, std::string token)
        : server_(std::move(server)), token_(std::move(token)) {}
    std::string server_;
    std::string token_;
};

// "status 413: the dump is larger ..." from an answer (its JSON "error" when it has one), or
// "no answer (connection failed: ...)" when there was none.
std::string describe_answer(const httplib::Result& result);

}  // namespace dumpscope::service
