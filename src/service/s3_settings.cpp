#include "service/s3_settings.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace dumpscope::service {

namespace {

constexpr std::string_view kScheme = "s3://";
constexpr uint64_t kMinPartMb = 5;
constexpr uint64_t kMaxPartMb = 5120;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<std::string> percent_decode(std::string_view text, const std::string& url) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return Error{
                fmt::format("--store {}: a bad %-escape at offset {} of '{}'", url, i, text)};
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// S3's bucket naming rules: 3-63 characters, lower-case letters, digits, '.' and '-', starting
// and ending with a letter or digit.
bool valid_bucket(std::string_view name) {
    if (name.size() < 3 || name.size() > 63) return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    return alnum(name.front()) && alnum(name.back());
}

Status check_endpoint(std::string& endpoint, const std::string& url) {
    const bool http = endpoint.rfind("http://", 0) == 0;
    const bool https = endpoint.rfind("https://", 0) == 0;
    if (!http && !https)
        return Error{fmt::format("--store {}: the endpoint '{}' is not an http:// or https:// URL",
                                 url, endpoint)};
    for (const char c : endpoint)
        if (c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= ' ' ||
            static_cast<unsigned char>(c) >= 0x7f)
            return Error{fmt::format(
                "--store {}: the endpoint '{}' has a '{}' (only scheme://host[:port][/path])", url,
                endpoint, c)};
    const size_t host = endpoint.find("://") + 3;
    if (host >= endpoint.size() || endpoint[host] == '/')
        return Error{fmt::format("--store {}: the endpoint '{}' has no host", url, endpoint)};
    while (endpoint.size() > host && endpoint.back() == '/') endpoint.pop_back();
    return {};
}

}  // namespace

Result<S3Settings> parse_s3_url(const std::string& url) {
    if (url.rfind(kScheme, 0) != 0)
        return Error{fmt::format("--store {}: expected s3://BUCKET?endpoint=URL&region=R", url)};
    const std::string_view rest = std::string_view(url).substr(kScheme.size());
    const size_t question = rest.find('?');
    S3Settings out;
    out.bucket = std::string(rest.substr(0, question));
    if (!out.bucket.empty() && out.bucket.back() == '/') out.bucket.pop_back();
    if (!valid_bucket(out.bucket))
        return Error{
            fmt::format("--store {}: '{}' is not a valid bucket name (3-63 of a-z 0-9 . "
                        "-, starting and ending with a letter or digit)",
                        url, out.bucket)};
    bool have_endpoint = false;
    std::string_view query =
        question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            return Error{fmt::format("--store {}: '{}' is not NAME=VALUE", url, item)};
        const std::string_view name = item.substr(0, eq);
        auto value = percent_decode(item.substr(eq + 1), url);
        if (!value.ok()) return value.error();
        if (name == "endpoint") {
            out.endpoint = *value;
            DS_TRY(check_endpoint(out.endpoint, url));
            have_endpoint = true;
        } else if (name == "region") {
            if (value->empty() || value->find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
                return Error{fmt::format("--store {}: '{}' is not a region name", url, *value)};
            out.region = *value;
        } else if (name == "part_mb") {
            uint64_t mb = 0;
            const auto [end, ec] =
                std::from_chars(value->data(), value->data() + value->size(), mb);
            if (ec != std::errc() || end != value->data() + value->size() || mb < kMinPartMb ||
                mb > kMaxPartMb)
                return Error{
                    fmt::format("--store {}: part_mb must be {} to {} (S3's limits), not "
                                "'{}'",
                                url, kMinPartMb, kMaxPartMb, *value)};
            out.part_size = mb << 20;
        } else {
            return Error{fmt::format(
                "--store {}: unknown parameter '{}' (endpoint, region, part_mb)", url, name)};
        }
    }
    if (!have_endpoint) out.endpoint = fmt::format("https://s3.{}.amazonaws.com", out.region);
    return out;
}

}  // namespace dumpscope::service
