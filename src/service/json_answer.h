// JSON answers and bodies of the API routes (api_routes.h, symbol_routes.h, agent_routes.h,
// upload_routes.h).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"

namespace dumpscope::service {

inline void answer_json(httplib::Response& response, int status, const nlohmann::json& body) {
    response.status = status;
    response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                         "application/json");
}

inline void answer_error(httplib::Response& response, int status, const std::string& message) {
    answer_json(response, status, nlohmann::json{{"error", message}});
}

// Logs the error on stderr; the client gets 500 and no details.
void answer_internal(httplib::Response& response, const Error& error);

// The request's body as a JSON object of at most `max_bytes`; otherwise answers 400 or 413 and
// returns nullopt.
std::optional<nlohmann::json> json_body(const httplib::Request& request,
                                        httplib::Response& response, size_t max_bytes);

}  // namespace dumpscope::service
