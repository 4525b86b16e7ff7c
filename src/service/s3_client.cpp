#include "service/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace dumpscope::service {

namespace {

// An answer that is not 2xx is an error document: at most this much of it is kept.
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr long kConnectTimeoutSeconds = 10;
// A transfer that moves less than 1 byte/s for this long has stalled.
constexpr long kStallSeconds = 60;

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Transfer {
    const S3Request* request = nullptr;
    CURL* curl = nullptr;
    S3Reply reply;
    uint64_t sent = 0;
    int read_errno = 0;
    bool sink_stopped = false;
};

bool success(long status) { return status >= 200 && status < 300; }

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {  // a new answer (after a 100 Continue): forget the last
        t->reply.etag.clear();
        t->reply.content_length.reset();
        return line.size();
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return line.size();
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
    if (name == "etag") t->reply.etag = std::string(value);
    if (name == "content-length") {
        uint64_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec == std::errc() && end == value.data() + value.size()) t->reply.content_length = n;
    }
    return line.size();
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->request->sink != nullptr && success(status)) {
        if (!(*t->request->sink)(data, n)) {
            t->sink_stopped = true;
            return CURL_WRITEFUNC_ERROR;
        }
        return n;
    }
    if (t->reply.body.size() < kMaxErrorBody)
        t->reply.body.append(data, std::min(n, kMaxErrorBody - t->reply.body.size()));
    return n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const uint64_t left = t->request->body_size - t->sent;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * count));
    if (want == 0) return 0;
    for (;;) {
        const ssize_t n = ::pread(t->request->body_fd, buffer, want,
                                  static_cast<off_t>(t->request->body_offset + t->sent));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {  // the file shrank or cannot be read: never send a short body
            t->read_errno = n < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        t->sent += static_cast<uint64_t>(n);
        return static_cast<size_t>(n);
    }
}

std::string unescape_xml(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out += text[i];
            continue;
        }
        const size_t semi = text.find(';', i);
        const std::string_view entity =
            semi == std::string_view::npos ? std::string_view() : text.substr(i + 1, semi - i - 1);
        const char* plain = entity == "amp"    ? "&"
                            : entity == "lt"   ? "<"
                            : entity == "gt"   ? ">"
                            : entity == "quot" ? "\""
                            : entity == "apos" ? "'"
                                               : nullptr;
        if (plain == nullptr) {
            out += text[i];
            continue;
        }
        out += plain;
        i = semi;
    }
    return out;
}

}  // namespace

Result<S3Credentials> S3Credentials::from_environment() {
    S3Credentials out;
    if (const char* id = std::getenv("AWS_ACCESS_KEY_ID")) out.access_key_id = id;
    if (const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY")) out.secret_access_key = secret;
    if (const char* token = std::getenv("AWS_SESSION_TOKEN")) out.session_token = token;
    if (out.access_key_id.empty() || out.secret_access_key.empty())
        return Error{
            "an S3 store needs credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment"};
    for (const std::string* value :
         {&out.access_key_id, &out.secret_access_key, &out.session_token})
        if (value->find_first_of("\r\n") != std::string::npos)
            return Error{"the AWS_* credentials in the environment have a line break"};
    return out;
}

S3Client::S3Client(S3Settings settings, S3Credentials credentials)
    : settings_(std::move(settings)), credentials_(std::move(credentials)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string S3Client::name_of(const std::string& key) const {
    return fmt::format("s3://{}/{}", settings_.bucket, key);
}

Result<S3Reply> S3Client::call(const S3Request& request) const {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Error{"cannot make a curl handle"};
    Transfer t;
    t.request = &request;
    t.curl = curl.get();
    const std::string url =
        fmt::format("{}/{}/{}{}{}", settings_.endpoint, settings_.bucket, request.key,
                    request.query.empty() ? "" : "?", request.query);
    const std::string sigv4 = "aws:amz:" + settings_.region + ":s3";
    curl_slist* raw_headers = nullptr;
    std::vector<std::string> headers = request.headers;
    headers.emplace_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!credentials_.session_token.empty())
        headers.push_back("x-amz-security-token: " + credentials_.session_token);
    for (const std::string& h : headers) raw_headers = curl_slist_append(raw_headers, h.c_str());
    std::unique_ptr<curl_slist, CurlDeleter> header_list(raw_headers);

    CURL* c = curl.get();
    char error_text[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    if (request.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT") {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
    } else if (request.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body_text.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body_text.size()));
    } else if (request.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    const CURLcode done = curl_easy_perform(c);
    const std::string what = fmt::format("S3 {} {}", request.method, name_of(request.key));
    if (t.read_errno != 0)
        return errno_error(fmt::format("{}: cannot read the upload at offset {}", what,
                                       request.body_offset + t.sent),
                           t.read_errno);
    if (t.sink_stopped) {  // the caller's choice, not a failure
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.reply.status);
        return std::move(t.reply);
    }
    if (done != CURLE_OK)
        return Error{fmt::format("{} ({}): {}", what, settings_.endpoint,
                                 error_text[0] != '\0' ? error_text : curl_easy_strerror(done))};
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.reply.status);
    return std::move(t.reply);
}

Error S3Client::error_of(const S3Request& request, const S3Reply& reply) const {
    std::string detail;
    if (auto code = xml_element(reply.body, "Code")) {
        detail = " " + *code;
        if (auto message = xml_element(reply.body, "Message")) detail += " (" + *message + ")";
    }
    return Error{fmt::format("S3 {} {}: HTTP {}{}", request.method, name_of(request.key),
                             reply.status, detail)};
}

std::optional<std::string> xml_element(const std::string& xml, const std::string& name) {
    const std::string open = "<" + name + ">";
    const std::string close = "</" + name + ">";
    const size_t start = xml.find(open);
    if (start == std::string::npos) return std::nullopt;
    const size_t end = xml.find(close, start + open.size());
    if (end == std::string::npos) return std::nullopt;
    return unescape_xml(
        std::string_view(xml).substr(start + open.size(), end - start - open.size()));
}

}  // namespace dumpscope::service
