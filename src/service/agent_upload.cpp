#include "service/agent_upload.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/unique_fd.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

constexpr int kMaxFailuresInARow = 30;
constexpr auto kReadTimeout = std::chrono::seconds(60);

void pause_after(int failures, const std::atomic<bool>& stopping) {
    const auto pause = std::chrono::milliseconds(std::min(100 << std::min(failures, 6), 5000));
    const auto until = std::chrono::steady_clock::now() + pause;
    while (!stopping.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::optional<uint64_t> received_in(const httplib::Result& result) {
    if (!result) return std::nullopt;
    const json body = json::parse(result->body, nullptr, false);
    if (!body.is_object() || !body.contains("received") || !body["received"].is_number_unsigned())
        return std::nullopt;
    return body["received"].get<uint64_t>();
}

Status read_at(int fd, std::string& buffer, uint64_t offset, const std::string& path) {
    size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done,
                                  static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error(fmt::format("cannot read {} at offset {}", path, offset));
        done += static_cast<size_t>(n);
    }
    return {};
}

}  // namespace

Result<UploadOutcome> upload_resumable(
    const AgentConnection& connection, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& annotations, uint64_t chunk_bytes,
    const std::atomic<bool>& stopping) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!file.valid() || ::fstat(file.get(), &st) != 0) return errno_error("cannot open " + path);
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size == 0) return Error{path + " is empty"};
    auto client = connection.client(kReadTimeout);
    UploadOutcome outcome;
    int failures = 0;
    auto failed = [&](const std::string& what, const httplib::Result& result) -> Status {
        if (result && result->status != 409 && result->status >= 400 && result->status != 502 &&
            result->status != 503 && result->status != 504)
            return Error{fmt::format("{}: {}", what, describe_answer(result))};
        if (++failures > kMaxFailuresInARow || stopping.load())
            return Error{fmt::format("{}: {} (gave up after {} failures)", what,
                                     describe_answer(result), failures)};
        pause_after(failures, stopping);
        return {};
    };

    json create{{"size", size}, {"annotations", json::object()}};
    for (const auto& [key, value] : annotations) create["annotations"][key] = value;
    std::string id;
    while (id.empty()) {
        auto result = client->Post("/api/uploads", create.dump(), "application/json");
        if (result && result->status == 201) {
            const json body = json::parse(result->body, nullptr, false);
            if (body.is_object() && body.value("id", "").size() == 32) id = body["id"];
            if (id.empty()) return Error{"the server's answer to the upload has no id"};
            break;
        }
        DS_TRY(failed("creating the upload", result));
    }

    uint64_t offset = 0;
    std::string chunk;
    bool resume = false;
    while (offset < size) {
        if (stopping.load()) return Error{"stopped during the upload"};
        if (resume) {
            auto result = client->Get("/api/uploads/" + id);
            const auto received =
                result && result->status == 200 ? received_in(result) : std::nullopt;
            if (!received) {
                DS_TRY(failed("asking where the upload stands", result));
                continue;
            }
            offset = *received;
            resume = false;
            ++outcome.resumes;
            continue;
        }
        chunk.resize(static_cast<size_t>(std::min(chunk_bytes, size - offset)));
        DS_TRY(read_at(file.get(), chunk, offset, path));
        const httplib::Headers range{
            {"Content-Range",
             fmt::format("bytes {}-{}/{}", offset, offset + chunk.size() - 1, size)}};
        auto result = client->Put("/api/uploads/" + id, range, chunk.data(), chunk.size(),
                                  "application/octet-stream");
        if (result && result->status == 200) {
            const auto received = received_in(result);
            if (!received) return Error{"the server's answer to a chunk has no received count"};
            offset = *received;
            failures = 0;
            continue;
        }
        DS_TRY(failed(fmt::format("sending bytes {}-{}", offset, offset + chunk.size()), result));
        resume = true;
    }
    for (;;) {
        auto result = client->Post("/api/uploads/" + id + "/commit", "", "application/json");
        if (result && result->status == 200) {
            const json body = json::parse(result->body, nullptr, false);
            if (!body.is_object() || !body.contains("crash_id") || !body["crash_id"].is_string())
                return Error{"the server's answer to the commit has no crash_id"};
            outcome.crash_id = body["crash_id"].get<std::string>();
            return outcome;
        }
        DS_TRY(failed("committing the upload", result));
    }
}

}  // namespace dumpscope::service
