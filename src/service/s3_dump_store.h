// `--store s3://BUCKET?endpoint=...`: the dumps as objects dumps/<id> of an S3-compatible bucket
// (s3_client.h signs the requests). An upload is spooled to a local temporary file under
// DATA/s3-spool first (so a refused or broken upload never reaches the bucket), then PUT in one
// request, or as a multipart upload from the part size up (aborted if any part fails), and
// checked: a HEAD must show the size sent and the ETag S3 answered. The analysis reads a
// temporary copy downloaded into DATA/s3-spool and removed after it; downloads through the API
// are streamed from S3. Leftover spool files are removed at start-up.
#pragma once

#include <memory>
#include <string>

#include "service/dump_directory.h"
#include "service/dump_store.h"
#include "service/s3_client.h"

namespace dumpscope::service {

class S3DumpStore final : public DumpStore {
public:
    static Result<std::unique_ptr<S3DumpStore>> open(const std::string& url,
                                                     const std::string& data_dir);

    std::string describe() const override;
    Result<std::unique_ptr<DumpUpload>> begin() override;
    Result<LocalDump> fetch(std::string_view id) override;
    Result<uint64_t> size_of(std::string_view id) override;
    Status read(std::string_view id, uint64_t offset, uint64_t length,
                const DumpSink& sink) override;
    Status remove(std::string_view id) override;

    // Stores `size` bytes of the file `fd` as the dump of `id` (a crash id), checked.
    Status put(const std::string& id, int fd, uint64_t size) const;

private:
    S3DumpStore(S3Client client, DumpDirectory spool)
        : client_(std::move(client)), spool_(std::move(spool)) {}
    Result<std::string> key_of(std::string_view id) const;
    Result<std::string> put_multipart(const std::string& key, int fd, uint64_t size) const;

    S3Client client_;
    DumpDirectory spool_;
};

}  // namespace dumpscope::service
