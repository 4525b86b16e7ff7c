#include "service/json_answer.h"

#include <fmt/format.h>

namespace dumpscope::service {

void answer_internal(httplib::Response& response, const Error& error) {
    fmt::print(stderr, "dumpscope server: {}\n", error.message);
    answer_error(response, 500, "internal error (see the server's log)");
}

std::optional<nlohmann::json> json_body(const httplib::Request& request,
                                        httplib::Response& response, size_t max_bytes) {
    if (request.body.size() > max_bytes) {
        answer_error(response, 413,
                     fmt::format("the body is larger than the limit of {} bytes", max_bytes));
        return std::nullopt;
    }
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        answer_error(response, 400, "the body must be a JSON object");
        return std::nullopt;
    }
    return body;
}

}  // namespace dumpscope::service
