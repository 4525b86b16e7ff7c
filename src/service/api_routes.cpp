#include "service/api_routes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "service/auth.h"
#include "service/crash_id.h"
#include "service/json_answer.h"
#include "service/time_text.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

json optional_json(const std::optional<std::string>& text) {
    return text ? json(*text) : json(nullptr);
}

json crash_json(const CrashRecord& crash) {
    json annotations = json::object();
    for (const auto& [key, value] : crash.annotations) annotations[key] = value;
    json analysis = nullptr;
    if (crash.analysis_json) {
        analysis = json::parse(*crash.analysis_json, nullptr, false);
        if (analysis.is_discarded()) analysis = nullptr;
    }
    return json{
        {"id", crash.id},
        {"status", crash.status},
        {"received_at", iso_time(crash.received_ms)},
        {"processed_at", crash.processed_ms ? json(iso_time(*crash.processed_ms)) : json(nullptr)},
        {"dump_size", crash.dump_size},
        {"format", optional_json(crash.format)},
        {"signature", optional_json(crash.signature)},
        {"program", optional_json(crash.program)},
        {"crash_class", optional_json(crash.crash_class)},
        {"annotations", annotations},
        {"analysis", analysis},
        {"error", optional_json(crash.error)},
    };
}

// ?limit=N: 1..1000, `fallback` when absent; nullopt when malformed.
std::optional<int64_t> limit_parameter(const httplib::Request& request, int64_t fallback) {
    if (!request.has_param("limit")) return fallback;
    const std::string text = request.get_param_value("limit");
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 1000)
        return std::nullopt;
    return value;
}

std::optional<std::string> text_parameter(const httplib::Request& request, const char* name) {
    if (!request.has_param(name)) return std::nullopt;
    return request.get_param_value(name);
}

// The id in the path, if it is one; otherwise answers 404.
std::optional<std::string> crash_id_of(const httplib::Request& request,
                                       httplib::Response& response) {
    const std::string id = request.matches[1];
    if (!is_crash_id(id)) {
        answer_error(response, 404, "no such crash (a crash id is 32 hexadecimal digits)");
        return std::nullopt;
    }
    return id;
}

// The crash the path names (404 for a malformed or unknown id, 500 if the store failed: the
// answer is then sent and nothing is returned).
std::optional<CrashRecord> crash_of(ServiceContext& context, const httplib::Request& request,
                                    httplib::Response& response) {
    const auto id = crash_id_of(request, response);
    if (!id) return std::nullopt;
    auto crash = context.store.get(*id);
    if (!crash.ok()) {
        answer_internal(response, crash.error());
        return std::nullopt;
    }
    if (!crash->has_value()) answer_error(response, 404, "no crash " + *id);
    return std::move(*crash);
}

void get_crash(ServiceContext& context, const httplib::Request& request,
               httplib::Response& response) {
    const std::optional<CrashRecord> crash = crash_of(context, request, response);
    if (crash) answer_json(response, 200, crash_json(*crash));
}

void list_crashes(ServiceContext& context, const httplib::Request& request,
                  httplib::Response& response) {
    const auto limit = limit_parameter(request, 100);
    if (!limit) return answer_error(response, 400, "limit must be a number from 1 to 1000");
    CrashQuery query{text_parameter(request, "signature"), text_parameter(request, "program"),
                     text_parameter(request, "class"), *limit};
    auto crashes = context.store.list(query);
    if (!crashes.ok()) return answer_internal(response, crashes.error());
    json out = json::array();
    for (const CrashSummary& c : *crashes) {
        out.push_back({{"id", c.id},
                       {"status", c.status},
                       {"received_at", iso_time(c.received_ms)},
                       {"signature", optional_json(c.signature)},
                       {"program", optional_json(c.program)},
                       {"crash_class", optional_json(c.crash_class)}});
    }
    answer_json(response, 200, json{{"crashes", out}});
}

void list_signatures(ServiceContext& context, const httplib::Request& request,
                     httplib::Response& response) {
    const auto limit = limit_parameter(request, 100);
    if (!limit) return answer_error(response, 400, "limit must be a number from 1 to 1000");
    auto signatures = context.store.signatures(*limit);
    if (!signatures.ok()) return answer_internal(response, signatures.error());
    json out = json::array();
    for (const SignatureSummary& s : *signatures) {
        out.push_back({{"signature", s.signature},
                       {"count", s.count},
                       {"first_seen", iso_time(s.first_ms)},
                       {"last_seen", iso_time(s.last_ms)},
                       {"programs", s.programs},
                       {"versions", s.versions}});
    }
    answer_json(response, 200, json{{"signatures", out}});
}

void reprocess_crash(ServiceContext& context, const httplib::Request& request,
                     httplib::Response& response) {
    const auto id = crash_id_of(request, response);
    if (!id) return;
    auto requeued = context.store.requeue(*id);
    if (!requeued.ok()) return answer_internal(response, requeued.error());
    if (!*requeued) return answer_error(response, 404, "no crash " + *id);
    context.workers.notify();
    answer_json(response, 202, json{{"id", *id}, {"status", "queued"}});
}

void download_dump(ServiceContext& context, const httplib::Request& request,
                   httplib::Response& response) {
    const std::optional<CrashRecord> crash = crash_of(context, request, response);
    if (!crash) return;
    const std::string& id = crash->id;
    auto size = context.dumps.size_of(id);
    if (!size.ok()) return answer_internal(response, size.error());
    response.set_header("Content-Disposition", "attachment; filename=\"" + id + ".dmp\"");
    // Streamed from the store: the range asked (cpp-httplib answers Range headers), all of it.
    response.set_content_provider(
        static_cast<size_t>(*size), "application/octet-stream",
        [&dumps = context.dumps, id](size_t offset, size_t length, httplib::DataSink& sink) {
            uint64_t sent = 0;
            Status read = dumps.read(id, offset, length, [&](const char* data, size_t n) {
                const size_t take = static_cast<size_t>(std::min<uint64_t>(n, length - sent));
                sent += take;
                return sink.write(data, take) && sent < length;
            });
            if (!read.ok()) fmt::print(stderr, "dumpscope server: {}\n", read.error().message);
            return read.ok() && sent == length;
        });
}

}  // namespace

bool refuse_unauthorized_api(const ServiceContext& context, const httplib::Request& request,
                             httplib::Response& response) {
    if (request.path.rfind("/api/", 0) != 0 && request.path != "/api") return false;
    if (bearer_authorized(request.get_header_value("Authorization"), context.token)) return false;
    response.set_header("WWW-Authenticate", "Bearer");
    answer_error(response, 401, "the API needs the header 'Authorization: Bearer TOKEN'");
    return true;
}

void add_api_routes(httplib::Server& server, ServiceContext& context) {
    server.Get(R"(/api/crashes/([^/]+))",
               [&context](const httplib::Request& req, httplib::Response& res) {
                   get_crash(context, req, res);
               });
    server.Get("/api/crashes", [&context](const httplib::Request& req, httplib::Response& res) {
        list_crashes(context, req, res);
    });
    server.Get("/api/signatures", [&context](const httplib::Request& req, httplib::Response& res) {
        list_signatures(context, req, res);
    });
    server.Post(R"(/api/crashes/([^/]+)/reprocess)",
                [&context](const httplib::Request& req, httplib::Response& res) {
                    reprocess_crash(context, req, res);
                });
    server.Get(R"(/api/crashes/([^/]+)/dump)",
               [&context](const httplib::Request& req, httplib::Response& res) {
                   download_dump(context, req, res);
               });
    // The ingest as it is now: uploads being stored, and whether the analyses make way for them.
    server.Get("/api/status", [&context](const httplib::Request&, httplib::Response& res) {
        const IngestLoad* load = context.ingest_load;
        answer_json(res, 200,
                    nlohmann::json{
                        {"uploads_storing", load != nullptr ? load->storing() : 0},
                        {"defer_analyses_at", load != nullptr ? load->busy_at() : 0},
                        {"analyses_deferred", load != nullptr && load->busy()},
                    });
    });
}

}  // namespace dumpscope::service
