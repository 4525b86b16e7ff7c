#include "service/symbol_routes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "common/unique_fd.h"
#include "service/auth.h"
#include "service/json_answer.h"
#include "service/time_text.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

void internal_error(httplib::Response& response, const Error& error) {
    answer_internal(response, Error{"symbols: " + error.message});
}

constexpr const char* kNotABuildId =
    "not a build-id (an even number of hexadecimal digits, 8 to 128 of them)";

void upload(ServiceContext& context, SymbolService& symbols, const httplib::Request& request,
            httplib::Response& response, const httplib::ContentReader& reader) {
    const auto id = normalized_build_id(request.matches[1].str());
    if (!id) return answer_error(response, 400, kNotABuildId);
    if (request.is_multipart_form_data())
        return answer_error(response, 415, "send the file itself as the body, not a form");
    auto pending = symbols.store.begin();
    if (!pending.ok()) return internal_error(response, pending.error());
    bool too_large = false;
    std::optional<Error> write_error;
    const bool read = reader([&](const char* data, size_t size) {
        if (pending->size() + size > symbols.max_bytes) {
            too_large = true;
            return false;
        }
        if (Status written = pending->write({data, size}); !written.ok()) {
            write_error = written.error();
            return false;
        }
        return true;
    });
    if (too_large || (!read && response.status == 413)) {
        return answer_error(response, 413,
                            fmt::format("the file is larger than the limit of {} MiB "
                                        "(dumpscope server --max-symbol-mb)",
                                        symbols.max_bytes >> 20));
    }
    if (write_error) {
        if (pending->disk_full()) return answer_error(response, 507, "the server's disk is full");
        return internal_error(response, *write_error);
    }
    if (!read) {
        if (response.status == 415)
            return answer_error(response, 415, "unsupported Content-Encoding (gzip is accepted)");
        return answer_error(response, 400, "the upload was cut short");
    }
    if (pending->size() == 0)
        return answer_error(response, 400, "the body is empty: send the file");
    auto committed = symbols.store.commit(*pending, *id);
    if (!committed.ok()) return internal_error(response, committed.error());
    if (const auto* refusal = std::get_if<SymbolRefusal>(&*committed))
        return answer_error(response, refusal->status, refusal->message);
    const auto& stored = std::get<StoredSymbols>(*committed);
    json kinds = json::array();
    for (SymbolKind kind : stored.kinds) kinds.push_back(symbol_kind_name(kind));
    json requeued = json::array();
    if (stored.changed) {
        auto lacking = symbols.index->crashes_lacking(*id);
        if (!lacking.ok()) return internal_error(response, lacking.error());
        for (const std::string& crash : *lacking) {
            auto done = context.store.requeue(crash);
            if (!done.ok()) return internal_error(response, done.error());
            if (!*done) continue;
            requeued.push_back(crash);
            context.workers.notify();
        }
    }
    answer_json(response, stored.changed ? 201 : 200,
                json{{"build_id", *id},
                     {"size", pending->size()},
                     {"stored_as", kinds},
                     {"changed", stored.changed},
                     {"requeued", requeued}});
}

json file_json(const std::optional<SymbolFileInfo>& file) {
    if (!file) return nullptr;
    return json{{"size", file->size}, {"uploaded_at", iso_time(file->modified_ms)}};
}

void describe(SymbolService& symbols, const httplib::Request& request,
              httplib::Response& response) {
    const auto id = normalized_build_id(request.matches[1].str());
    if (!id) return answer_error(response, 404, kNotABuildId);
    const auto debuginfo = symbols.store.find(*id, SymbolKind::kDebuginfo);
    const auto executable = symbols.store.find(*id, SymbolKind::kExecutable);
    auto crashes = symbols.index->crashes_with(*id, 100);
    if (!crashes.ok()) return internal_error(response, crashes.error());
    if (!debuginfo && !executable && crashes->empty())
        return answer_error(response, 404, "nothing is known of build-id " + *id);
    answer_json(response, 200,
                json{{"build_id", *id},
                     {"debuginfo", file_json(debuginfo)},
                     {"executable", file_json(executable)},
                     {"crashes", *crashes}});
}

// GET /buildid/ID/debuginfo|executable as debuginfod answers it: the file, or 404.
void serve(ServiceContext& context, SymbolService& symbols, const httplib::Request& request,
           httplib::Response& response) {
    if (!bearer_authorized(request.get_header_value("Authorization"), context.token)) {
        response.set_header("WWW-Authenticate", "Bearer");
        response.status = 401;
        response.set_content(
            "the symbol store needs the header 'Authorization: Bearer TOKEN' "
            "(debuginfod clients: DEBUGINFOD_HEADERS_FILE)\n",
            "text/plain");
        return;
    }
    const auto id = normalized_build_id(request.matches[1].str());
    const SymbolKind kind =
        request.matches[2].str() == "debuginfo" ? SymbolKind::kDebuginfo : SymbolKind::kExecutable;
    const auto file = id ? symbols.store.find(*id, kind) : std::nullopt;
    if (!file) {
        response.status = 404;
        response.set_content("not found\n", "text/plain");
        return;
    }
    auto fd = std::make_shared<UniqueFd>(::open(file->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd->valid()) return internal_error(response, errno_error("cannot open " + file->path));
    const off_t size = ::lseek(fd->get(), 0, SEEK_END);
    if (size < 0) return internal_error(response, errno_error("cannot size " + file->path));
    response.set_header("X-DEBUGINFOD-SIZE", std::to_string(size));
    response.set_content_provider(static_cast<size_t>(size), "application/octet-stream",
                                  [fd](size_t offset, size_t length, httplib::DataSink& sink) {
                                      char buffer[1 << 16];
                                      const ssize_t n = ::pread(fd->get(), buffer,
                                                                std::min(length, sizeof buffer),
                                                                static_cast<off_t>(offset));
                                      if (n <= 0) return false;
                                      return sink.write(buffer, static_cast<size_t>(n));
                                  });
}

}  // namespace

void add_symbol_routes(httplib::Server& server, ServiceContext& context, SymbolService& symbols) {
    server.Put(R"(/api/symbols/([^/]+))",
               [&context, &symbols](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
                   upload(context, symbols, req, res, reader);
               });
    server.Get(R"(/api/symbols/([^/]+))",
               [&symbols](const httplib::Request& req, httplib::Response& res) {
                   describe(symbols, req, res);
               });
    server.Get(R"(/buildid/([^/]+)/(debuginfo|executable))",
               [&context, &symbols](const httplib::Request& req, httplib::Response& res) {
                   serve(context, symbols, req, res);
               });
}

}  // namespace dumpscope::service
