#include "service/submit_route.h"

#include <fmt/format.h>

#include <string>

#include "service/ingest.h"

namespace dumpscope::service {

namespace {

constexpr const char* kDumpPart = "upload_file_minidump";

void answer(httplib::Response& response, int status, const std::string& text) {
    response.status = status;
    response.set_content(text + "\n", "text/plain; charset=utf-8");
    // The rest of a refused body is not read: the connection cannot carry another request.
    if (status >= 400) response.set_header("Connection", "close");
}

}  // namespace

void handle_submit(ServiceContext& context, const httplib::Request& request,
                   httplib::Response& response, const httplib::ContentReader& reader) {
    if (!request.is_multipart_form_data())
        return answer(response, 400,
                      fmt::format("expected a multipart/form-data body with the dump in the {} "
                                  "part (Breakpad's upload protocol)",
                                  kDumpPart));
    // After a refusal the rest of a plain body with a length is read and dropped, so the client
    // gets the answer instead of a reset connection; anything else (a compressed body could
    // inflate without end, a chunked one has no length) stops being read at once.
    const bool drain =
        request.has_header("Content-Length") && !request.has_header("Content-Encoding");
    if (const int64_t wait =
            context.upload_rate.admit(request.remote_addr, RateLimiter::Clock::now());
        wait > 0) {
        if (drain)
            reader([](const httplib::MultipartFormData&) { return true; },
                   [](const char*, size_t) { return true; });
        response.set_header("Retry-After", std::to_string(wait));
        return answer(response, 429,
                      fmt::format("too many uploads from {}: try again in {} s (dumpscope server "
                                  "--max-uploads-per-minute)",
                                  request.remote_addr, wait));
    }
    auto pending = context.dumps.begin();
    if (!pending.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", pending.error().message);
        return answer(response, 500, "cannot store the upload");
    }
    DumpUpload& upload = **pending;
    const uint64_t limit = context.max_upload_bytes;
    Annotations annotations;
    std::string name, value;
    bool in_dump = false;
    int dump_part_count = 0;
    size_t annotation_bytes = 0;
    int refused_status = 0;
    std::string refused;
    auto refuse = [&](int status, std::string why) {
        refused_status = status;
        refused = std::move(why);
        return drain;
    };
    auto end_part = [&] {
        if (!in_dump && !name.empty()) annotations.emplace_back(std::move(name), std::move(value));
        name.clear();
        value.clear();
    };
    const bool read = reader(
        [&](const httplib::MultipartFormData& part) {
            if (refused_status != 0) return true;
            end_part();
            in_dump = part.name == kDumpPart;
            if (in_dump) {
                if (++dump_part_count > 1)
                    return refuse(400, fmt::format("more than one {} part", kDumpPart));
                return true;
            }
            if (annotations.size() >= kMaxAnnotations)
                return refuse(413, fmt::format("more than {} annotation parts", kMaxAnnotations));
            name = part.name;
            annotation_bytes += name.size();
            return true;
        },
        [&](const char* data, size_t size) {
            if (refused_status != 0) return true;
            if (in_dump) {
                if (upload.size() + size > limit)
                    return refuse(413, fmt::format("the dump is larger than the limit of {} MiB "
                                                   "(dumpscope server --max-upload-mb)",
                                                   limit >> 20));
                if (Status written = upload.write(std::string_view(data, size)); !written.ok()) {
                    fmt::print(stderr, "dumpscope server: {}\n", written.error().message);
                    return refuse(upload.disk_full() ? 507 : 500, upload.disk_full()
                                                                      ? "the server's disk is full"
                                                                      : "cannot store the upload");
                }
                return true;
            }
            annotation_bytes += size;
            if (annotation_bytes > kMaxAnnotationBytes)
                return refuse(413, fmt::format("the annotations are larger than the limit of {} "
                                               "bytes",
                                               kMaxAnnotationBytes));
            value.append(data, size);
            return true;
        });
    if (refused_status != 0) return answer(response, refused_status, refused);
    if (!read) {
        if (response.status == 413)
            return answer(response, 413,
                          fmt::format("the upload is larger than the limit of {} MiB "
                                      "(dumpscope server --max-upload-mb)",
                                      limit >> 20));
        if (response.status == 415)
            return answer(response, 415, "unsupported Content-Encoding (gzip is accepted)");
        return answer(response, 400, "malformed multipart/form-data body");
    }
    end_part();
    if (dump_part_count == 0)
        return answer(response, 400, fmt::format("no {} part in the upload", kDumpPart));
    if (upload.size() == 0)
        return answer(response, 400, fmt::format("the {} part is empty", kDumpPart));

    IngestResult stored = ingest_dump(context, upload, std::move(annotations));
    if (stored.status != 200) return answer(response, stored.status, stored.message);
    response.status = 200;
    response.set_content("CrashID=" + stored.crash_id + "\n", "text/plain; charset=utf-8");
}

}  // namespace dumpscope::service
