#include "service/s3_dump_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <vector>

#include "common/unique_fd.h"
#include "diagnosis/html_text.h"
#include "service/crash_id.h"
#include "service/private_dir.h"

namespace dumpscope::service {

namespace {

constexpr const char* kKeyPrefix = "dumps/";

class S3DumpUpload final : public DumpUpload {
public:
    S3DumpUpload(PendingDump spooled, const S3DumpStore& store)
        : spooled_(std::move(spooled)), store_(store) {}
    Status write(std::string_view bytes) override { return spooled_.write(bytes); }
    uint64_t size() const override { return spooled_.size(); }
    bool disk_full() const override { return spooled_.disk_full(); }
    bool store_unavailable() const override { return unavailable_; }
    // The spooled file goes when this object does, stored or not.
    Status commit(const std::string& id) override {
        DS_TRY(spooled_.flush());
        UniqueFd file(::open(spooled_.temp_path().c_str(), O_RDONLY | O_CLOEXEC));
        if (!file.valid()) return errno_error("cannot open " + spooled_.temp_path());
        Status stored = store_.put(id, file.get(), spooled_.size());
        unavailable_ = !stored.ok();
        return stored;
    }

private:
    PendingDump spooled_;
    const S3DumpStore& store_;
    bool unavailable_ = false;
};

std::string unquoted(const std::string& etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        return etag.substr(1, etag.size() - 2);
    return etag;
}

}  // namespace

Result<std::unique_ptr<S3DumpStore>> S3DumpStore::open(const std::string& url,
                                                       const std::string& data_dir) {
    auto settings = parse_s3_url(url);
    if (!settings.ok()) return settings.error();
    auto credentials = S3Credentials::from_environment();
    if (!credentials.ok()) return Error{"--store " + url + ": " + credentials.error().message};
    DS_TRY(make_private_dir(data_dir));
    auto spool = DumpDirectory::open_directory(data_dir + "/s3-spool");
    if (!spool.ok()) return spool.error();
    return std::unique_ptr<S3DumpStore>(new S3DumpStore(
        S3Client(std::move(*settings), std::move(*credentials)), std::move(*spool)));
}

std::string S3DumpStore::describe() const { return client_.name_of(kKeyPrefix); }

Result<std::string> S3DumpStore::key_of(std::string_view id) const {
    if (!is_crash_id(id)) return Error{fmt::format("not a crash id: '{}'", id)};
    return kKeyPrefix + std::string(id);
}

Result<std::unique_ptr<DumpUpload>> S3DumpStore::begin() {
    auto pending = spool_.begin();
    if (!pending.ok()) return pending.error();
    return std::unique_ptr<DumpUpload>(std::make_unique<S3DumpUpload>(std::move(*pending), *this));
}

Status S3DumpStore::put(const std::string& id, int fd, uint64_t size) const {
    auto key = key_of(id);
    if (!key.ok()) return key.error();
    std::string etag;
    if (size >= client_.settings().part_size) {
        auto assembled = put_multipart(*key, fd, size);
        if (!assembled.ok()) return assembled.error();
        etag = *assembled;
    } else {
        S3Request put("PUT", *key);
        put.with_file(fd, 0, size).headers.emplace_back("Content-Type: application/octet-stream");
        auto reply = client_.call(put);
        if (!reply.ok()) return reply.error();
        if (reply->status != 200) return client_.error_of(put, *reply);
        etag = reply->etag;
    }
    // The object as the store now has it: the size sent and the ETag it answered.
    const S3Request head("HEAD", *key);
    auto stored = client_.call(head);
    if (!stored.ok()) return stored.error();
    if (stored->status != 200) return client_.error_of(head, *stored);
    if (stored->content_length != size || unquoted(stored->etag) != unquoted(etag)) {
        const Error wrong{
            fmt::format("{}: stored as {} bytes with ETag {} after sending {} bytes (ETag {})",
                        client_.name_of(*key),
                        stored->content_length ? std::to_string(*stored->content_length) : "?",
                        stored->etag, size, etag)};
        (void)client_.call(S3Request("DELETE", *key));
        return wrong;
    }
    return {};
}

Result<std::string> S3DumpStore::put_multipart(const std::string& key, int fd,
                                               uint64_t size) const {
    const S3Request initiate("POST", key, "uploads=");
    auto started = client_.call(initiate);
    if (!started.ok()) return started.error();
    if (started->status != 200) return client_.error_of(initiate, *started);
    const std::optional<std::string> upload_id = xml_element(started->body, "UploadId");
    if (!upload_id || upload_id->empty() ||
        upload_id->find_first_of("&=?# \r\n") != std::string::npos)
        return Error{fmt::format("S3 POST {}?uploads: no usable UploadId in the answer",
                                 client_.name_of(key))};
    const std::string upload = "uploadId=" + *upload_id;
    auto abort = [&](Error why) -> Result<std::string> {
        (void)client_.call(S3Request("DELETE", key, upload));
        return why;
    };
    const uint64_t part_size = client_.settings().part_size;
    std::string complete = "<CompleteMultipartUpload>";
    for (uint64_t offset = 0, number = 1; offset < size; offset += part_size, ++number) {
        S3Request part("PUT", key, fmt::format("partNumber={}&{}", number, upload));
        part.with_file(fd, offset, std::min(part_size, size - offset));
        auto sent = client_.call(part);
        if (!sent.ok()) return abort(sent.error());
        if (sent->status != 200) return abort(client_.error_of(part, *sent));
        if (sent->etag.empty())
            return abort(Error{fmt::format("S3 PUT {} part {}: no ETag in the answer",
                                           client_.name_of(key), number)});
        complete += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number,
                                diagnosis::html_text(sent->etag));
    }
    complete += "</CompleteMultipartUpload>";
    S3Request finish("POST", key, upload);
    finish.headers.emplace_back("Content-Type: application/xml");
    finish.body_text = complete;
    auto finished = client_.call(finish);
    if (!finished.ok()) return abort(finished.error());
    // S3 may answer 200 and still report an error in the body.
    if (finished->status != 200 || xml_element(finished->body, "Code"))
        return abort(client_.error_of(finish, *finished));
    const std::optional<std::string> etag = xml_element(finished->body, "ETag");
    if (!etag)
        return abort(Error{
            fmt::format("S3 POST {}?{}: no ETag in the answer", client_.name_of(key), upload)});
    return *etag;
}

Result<LocalDump> S3DumpStore::fetch(std::string_view id) {
    auto pending = spool_.begin();
    if (!pending.ok()) return pending.error();
    Status written;
    const DumpSink sink = [&](const char* data, size_t size) {
        written = pending->write(std::string_view(data, size));
        return written.ok();
    };
    if (Status read_all = read(id, 0, UINT64_MAX, sink); !read_all.ok()) return read_all.error();
    if (!written.ok()) return written.error();
    auto spooled = pending->release_temporary();
    if (!spooled.ok()) return spooled.error();
    return LocalDump(std::move(*spooled), true);
}

Result<uint64_t> S3DumpStore::size_of(std::string_view id) {
    auto key = key_of(id);
    if (!key.ok()) return key.error();
    const S3Request head("HEAD", *key);
    auto reply = client_.call(head);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return client_.error_of(head, *reply);
    if (!reply->content_length)
        return Error{fmt::format("S3 HEAD {}: no Content-Length", client_.name_of(*key))};
    return *reply->content_length;
}

Status S3DumpStore::read(std::string_view id, uint64_t offset, uint64_t length,
                         const DumpSink& sink) {
    auto key = key_of(id);
    if (!key.ok()) return key.error();
    if (length == 0) return {};
    S3Request get("GET", *key);
    const bool whole = offset == 0 && length == UINT64_MAX;
    if (!whole)
        get.headers.push_back(length >= UINT64_MAX - offset
                                  ? fmt::format("Range: bytes={}-", offset)
                                  : fmt::format("Range: bytes={}-{}", offset, offset + length - 1));
    get.sink = &sink;
    auto reply = client_.call(get);
    if (!reply.ok()) return reply.error();
    // A range from 0 may be answered whole (200) by a store that ignores ranges: not one from
    // further on.
    const bool ok = reply->status == 206 || (reply->status == 200 && offset == 0);
    if (!ok) return client_.error_of(get, *reply);
    return {};
}

Status S3DumpStore::remove(std::string_view id) {
    auto key = key_of(id);
    if (!key.ok()) return key.error();
    const S3Request del("DELETE", *key);
    auto reply = client_.call(del);
    if (!reply.ok()) return reply.error();
    if (reply->status != 204 && reply->status != 200 && reply->status != 404)
        return client_.error_of(del, *reply);
    return {};
}

}  // namespace dumpscope::service
