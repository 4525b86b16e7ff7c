// `--store s3://BUCKET?endpoint=URL&region=R&part_mb=N`, parsed and checked (a pure function):
// the bucket (S3's naming rules), the endpoint (http:// or https://, default AWS's regional
// one), the region (default us-east-1) and the multipart part size (dumps of that size or more
// are uploaded in parts of it; S3's minimum is 5 MiB). Values may be percent-encoded.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope::service {

struct S3Settings {
    std::string bucket;
    std::string endpoint;  // scheme://host[:port][/path], no trailing '/'
    std::string region = "us-east-1";
    uint64_t part_size = uint64_t{64} << 20;
};

Result<S3Settings> parse_s3_url(const std::string& url);

}  // namespace dumpscope::service
