// Signed requests to an S3-compatible store through libcurl: libcurl signs each one with AWS
// Signature Version 4 (CURLOPT_AWS_SIGV4); nothing here computes a signature. The payload is
// sent as UNSIGNED-PAYLOAD (the x-amz-content-sha256 header, which libcurl 7.88 then uses as the
// payload hash), so a dump is streamed from its file without being read twice. Path-style URLs
// (ENDPOINT/BUCKET/KEY), which every S3-compatible server takes. One curl handle per request:
// requests come from any thread. No header is ever removed with "Name:": libcurl 7.88 signs such
// a header as if it were sent empty, and a server that checks signatures would refuse it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/dump_store.h"
#include "service/s3_settings.h"

namespace dumpscope::service {

struct S3Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // optional (temporary credentials)

    // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    static Result<S3Credentials> from_environment();
};

struct S3Request {
    S3Request(std::string method_, std::string key_, std::string query_ = "")
        : method(std::move(method_)), key(std::move(key_)), query(std::move(query_)) {}
    // PUT of `size` bytes of the file `fd` from `offset`.
    S3Request& with_file(int fd, uint64_t offset, uint64_t size) {
        body_fd = fd;
        body_offset = offset;
        body_size = size;
        return *this;
    }

    std::string method;  // GET, HEAD, PUT, POST, DELETE
    std::string key;
    // Already canonical: parameters sorted, each with '=' (uploads=, partNumber=1&uploadId=X).
    std::string query;
    std::vector<std::string> headers;  // "Name: value"
    // PUT: `body_size` bytes of the file `body_fd` from `body_offset`.
    int body_fd = -1;
    uint64_t body_offset = 0;
    uint64_t body_size = 0;
    // POST: this text.
    std::string body_text;
    // GET: a 2xx answer's body goes here instead of S3Reply::body (the transfer ends, without
    // an error, when it returns false).
    const DumpSink* sink = nullptr;
};

struct S3Reply {
    long status = 0;
    std::string body;  // an error's XML, or the answer of a POST
    std::string etag;  // as sent, quotes included
    std::optional<uint64_t> content_length;
};

class S3Client {
public:
    S3Client(S3Settings settings, S3Credentials credentials);

    const S3Settings& settings() const { return settings_; }
    // "s3://BUCKET/KEY", for messages.
    std::string name_of(const std::string& key) const;
    // Any HTTP status is a reply; only a transfer that failed (connection, timeout) is an error.
    Result<S3Reply> call(const S3Request& request) const;
    // An error naming the request, the bucket and key, the HTTP status and S3's error code and
    // message from the XML body: "S3 PUT s3://b/dumps/ID: HTTP 403 InvalidAccessKeyId (...)".
    Error error_of(const S3Request& request, const S3Reply& reply) const;

private:
    S3Settings settings_;
    S3Credentials credentials_;
};

// The text of the first <name>...</name> element of a small XML answer of S3 (error codes,
// upload ids, ETags), entities undone; nullopt if there is none.
std::optional<std::string> xml_element(const std::string& xml, const std::string& name);

}  // namespace dumpscope::service
