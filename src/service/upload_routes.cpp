#include "service/upload_routes.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <string>

#include "service/agent_hub.h"
#include "service/ingest.h"
#include "service/json_answer.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

constexpr size_t kMaxCreateBody = kMaxAnnotationBytes + (64 << 10);

struct ContentRange {
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t total = 0;
};

std::optional<uint64_t> number_in(std::string_view text) {
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// "bytes FIRST-LAST/TOTAL".
std::optional<ContentRange> parse_content_range(std::string_view text) {
    constexpr std::string_view prefix = "bytes ";
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    text.remove_prefix(prefix.size());
    const size_t dash = text.find('-');
    const size_t slash = text.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return std::nullopt;
    auto first = number_in(text.substr(0, dash));
    auto last = number_in(text.substr(dash + 1, slash - dash - 1));
    auto total = number_in(text.substr(slash + 1));
    if (!first || !last || !total || *last < *first || *last >= *total) return std::nullopt;
    return ContentRange{*first, *last, *total};
}

json upload_json(const UploadInfo& upload) {
    return json{{"id", upload.id}, {"size", upload.size}, {"received", upload.received}};
}

// The upload the path names, or nullopt with 404/500 answered.
std::optional<UploadInfo> upload_of(ServiceContext& context, const httplib::Request& request,
                                    httplib::Response& response) {
    auto upload = context.agents->uploads().info(std::string(request.matches[1]));
    if (!upload.ok()) {
        answer_internal(response, upload.error());
        return std::nullopt;
    }
    if (!upload->has_value()) answer_error(response, 404, "no such upload");
    return std::move(*upload);
}

void create_upload(ServiceContext& context, const httplib::Request& request,
                   httplib::Response& response) {
    auto body = json_body(request, response, kMaxCreateBody);
    if (!body) return;
    for (const auto& [key, value] : body->items())
        if (key != "size" && key != "annotations")
            return answer_error(response, 400,
                                fmt::format("unknown key '{}' (size, annotations)", key));
    if (!body->contains("size") || !(*body)["size"].is_number_unsigned() ||
        (*body)["size"].get<uint64_t>() == 0)
        return answer_error(response, 400, "size must be the dump's size in bytes (> 0)");
    const uint64_t size = (*body)["size"].get<uint64_t>();
    if (size > context.max_upload_bytes)
        return answer_error(response, 413,
                            fmt::format("the dump is larger than the limit of {} MiB (dumpscope "
                                        "server --max-upload-mb)",
                                        context.max_upload_bytes >> 20));
    Annotations annotations;
    size_t annotation_bytes = 0;
    if (body->contains("annotations")) {
        const json& given = (*body)["annotations"];
        if (!given.is_object())
            return answer_error(response, 400, "annotations must be an object of strings");
        for (const auto& [key, value] : given.items()) {
            if (!value.is_string() || key.empty())
                return answer_error(response, 400, "annotations must be an object of strings");
            annotations.emplace_back(key, value.get<std::string>());
            annotation_bytes += key.size() + annotations.back().second.size();
        }
    }
    if (annotations.size() > kMaxAnnotations)
        return answer_error(response, 413,
                            fmt::format("more than {} annotations", kMaxAnnotations));
    if (annotation_bytes > kMaxAnnotationBytes)
        return answer_error(response, 413,
                            fmt::format("the annotations are larger than the limit of {} bytes",
                                        kMaxAnnotationBytes));
    if (const int64_t wait =
            context.upload_rate.admit(request.remote_addr, RateLimiter::Clock::now());
        wait > 0) {
        response.set_header("Retry-After", std::to_string(wait));
        return answer_error(
            response, 429,
            fmt::format("too many uploads from {}: try again in {} s", request.remote_addr, wait));
    }
    auto upload = context.agents->uploads().create(size, annotations);
    if (!upload.ok()) return answer_internal(response, upload.error());
    answer_json(response, 201, upload_json(*upload));
}

void get_upload(ServiceContext& context, const httplib::Request& request,
                httplib::Response& response) {
    const auto upload = upload_of(context, request, response);
    if (!upload) return;
    response.set_header("Upload-Offset", std::to_string(upload->received));
    response.set_header("Upload-Length", std::to_string(upload->size));
    answer_json(response, 200, upload_json(*upload));
}

void put_upload(ServiceContext& context, const httplib::Request& request,
                httplib::Response& response, const httplib::ContentReader& reader) {
    // A refused request is not read further: the connection cannot carry another one.
    response.set_header("Connection", "close");
    const auto upload = upload_of(context, request, response);
    if (!upload) return;
    const auto range = parse_content_range(request.get_header_value("Content-Range"));
    if (!range)
        return answer_error(response, 400,
                            "a PUT needs 'Content-Range: bytes FIRST-LAST/SIZE' (LAST inclusive)");
    if (range->total != upload->size)
        return answer_error(response, 400,
                            fmt::format("Content-Range says the size is {}, the upload's is {}",
                                        range->total, upload->size));
    const uint64_t length = range->last - range->first + 1;
    if (!request.has_header("Content-Length") ||
        number_in(request.get_header_value("Content-Length")) != length)
        return answer_error(response, 400, "Content-Length must match Content-Range");
    if (range->first != upload->received) {
        response.set_header("Upload-Offset", std::to_string(upload->received));
        return answer_json(
            response, 409,
            json{{"error", fmt::format("the upload has {} bytes: resume there", upload->received)},
                 {"received", upload->received}});
    }
    bool conflict = false;
    auto writer = context.agents->uploads().append(upload->id, range->first, conflict);
    if (!writer.ok()) {
        if (!conflict) return answer_internal(response, writer.error());
        return answer_json(response, 409,
                           json{{"error", writer.error().message}, {"received", upload->received}});
    }
    int refused = 0;
    const bool read = reader([&](const char* data, size_t size) {
        if (writer->offset() + size > range->last + 1) {
            refused = 400;
            return false;
        }
        if (Status written = writer->write(std::string_view(data, size)); !written.ok()) {
            fmt::print(stderr, "dumpscope server: {}\n", written.error().message);
            refused = writer->disk_full() ? 507 : 500;
            return false;
        }
        return true;
    });
    const uint64_t received = writer->offset();
    response.set_header("Upload-Offset", std::to_string(received));
    if (refused == 507) return answer_error(response, 507, "the server's disk is full");
    if (refused == 500) return answer_error(response, 500, "cannot store the upload");
    if (refused == 400 || !read || received != range->last + 1)
        return answer_json(
            response, 400,
            json{{"error", "the body does not match its Content-Range"}, {"received", received}});
    response.headers.erase("Connection");  // read whole: the connection can carry the next one
    answer_json(response, 200, upload_json(UploadInfo{upload->id, upload->size, received, {}}));
}

void commit_upload(ServiceContext& context, const httplib::Request& request,
                   httplib::Response& response) {
    const auto upload = upload_of(context, request, response);
    if (!upload) return;
    if (upload->received != upload->size)
        return answer_json(response, 409,
                           json{{"error", fmt::format("the upload has {} of its {} bytes",
                                                      upload->received, upload->size)},
                                {"received", upload->received}});
    UploadStore& uploads = context.agents->uploads();
    // Holding the writer: no other request writes or commits it meanwhile.
    bool conflict = false;
    auto writer = uploads.append(upload->id, upload->size, conflict);
    if (!writer.ok()) {
        if (!conflict) return answer_internal(response, writer.error());
        return answer_error(response, 409, writer.error().message);
    }
    auto pending = context.dumps.begin();
    if (!pending.ok()) return answer_internal(response, pending.error());
    auto data = uploads.open_data(upload->id);
    if (!data.ok()) return answer_internal(response, data.error());
    std::string buffer(1 << 20, '\0');
    for (;;) {
        const ssize_t n = ::read(data->get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return answer_internal(response, errno_error("cannot read the upload"));
        if (n == 0) break;
        if (Status written =
                (*pending)->write(std::string_view(buffer.data(), static_cast<size_t>(n)));
            !written.ok()) {
            if ((*pending)->disk_full())
                return answer_error(response, 507, "the server's disk is full");
            return answer_internal(response, written.error());
        }
    }
    if ((*pending)->size() != upload->size)
        return answer_internal(response,
                               Error{fmt::format("upload {} changed while committed", upload->id)});
    IngestResult stored = ingest_dump(context, **pending, upload->annotations);
    if (stored.status != 200) return answer_error(response, stored.status, stored.message);
    if (Status removed = uploads.remove(upload->id); !removed.ok())
        fmt::print(stderr, "dumpscope server: {}\n", removed.error().message);
    answer_json(response, 200, json{{"crash_id", stored.crash_id}});
}

}  // namespace

void add_upload_routes(httplib::Server& server, ServiceContext& context) {
    server.Post("/api/uploads", [&context](const httplib::Request& req, httplib::Response& res) {
        create_upload(context, req, res);
    });
    server.Get(R"(/api/uploads/([^/]+))",
               [&context](const httplib::Request& req, httplib::Response& res) {
                   get_upload(context, req, res);
               });
    server.Put(R"(/api/uploads/([^/]+))",
               [&context](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
                   put_upload(context, req, res, reader);
               });
    server.Post(R"(/api/uploads/([^/]+)/commit)",
                [&context](const httplib::Request& req, httplib::Response& res) {
                    commit_upload(context, req, res);
                });
}

}  // namespace dumpscope::service
