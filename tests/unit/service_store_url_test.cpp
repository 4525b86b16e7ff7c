// --store URLs and the file store through the DumpStore interface: s3:// settings (bucket
// rules, endpoint, region, part size, escapes, refusals), S3's XML answers, file: and the
// default store (read from an offset, size, fetch without a copy, removal, ids only), and
// LocalDump's temporary copies.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "service/dump_store.h"
#include "service/s3_client.h"
#include "service/s3_settings.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

const std::string kId = "0123456789abcdef0123456789abcdef";

TEST(ServiceStoreUrl, S3SettingsFromTheUrl) {
    auto s = parse_s3_url("s3://my-dumps?endpoint=http://127.0.0.1:9000/&region=eu-west-3");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->bucket, "my-dumps");
    EXPECT_EQ(s->endpoint, "http://127.0.0.1:9000");
    EXPECT_EQ(s->region, "eu-west-3");
    EXPECT_EQ(s->part_size, uint64_t{64} << 20);

    // Percent-escaped values; the default endpoint is AWS's for the region.
    auto escaped =
        parse_s3_url("s3://b.c-d?endpoint=https%3A%2F%2Fs3.example.com%3A8443&part_mb=5");
    ASSERT_TRUE(escaped.ok()) << escaped.error().message;
    EXPECT_EQ(escaped->endpoint, "https://s3.example.com:8443");
    EXPECT_EQ(escaped->region, "us-east-1");
    EXPECT_EQ(escaped->part_size, uint64_t{5} << 20);
    auto aws = parse_s3_url("s3://bucket?region=ap-south-1");
    ASSERT_TRUE(aws.ok());
    EXPECT_EQ(aws->endpoint, "https://s3.ap-south-1.amazonaws.com");
}

TEST(ServiceStoreUrl, S3UrlsRefusedWithTheReason) {
    const std::pair<const char*, const char*> bad[] = {
        {"s3://ab", "not a valid bucket name"},
        {"s3://Upper?endpoint=http://h", "not a valid bucket name"},
        {"s3://-bucket", "not a valid bucket name"},
        {"s3://b/../x", "not a valid bucket name"},
        {"s3://bucket?endpoint=ftp://h", "not an http:// or https:// URL"},
        {"s3://bucket?endpoint=http://", "has no host"},
        {"s3://bucket?endpoint=http://u@h", "has a '@'"},
        {"s3://bucket?endpoint=http://h%2", "bad %-escape"},
        {"s3://bucket?region=EU WEST", "not a region name"},
        {"s3://bucket?part_mb=4", "part_mb must be 5 to 5120"},
        {"s3://bucket?part_mb=x", "part_mb must be 5 to 5120"},
        {"s3://bucket?secret=x", "unknown parameter 'secret'"},
        {"s3://bucket?endpoint", "not NAME=VALUE"},
        {"http://bucket", "expected s3://"},
    };
    for (const auto& [url, why] : bad) {
        auto s = parse_s3_url(url);
        ASSERT_FALSE(s.ok()) << url;
        EXPECT_NE(s.error().message.find(why), std::string::npos)
            << url << ": " << s.error().message;
        EXPECT_NE(s.error().message.find(url), std::string::npos) << s.error().message;
    }
}

TEST(ServiceStoreUrl, XmlElementsOfS3Answers) {
    const std::string error =
        "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key &amp; &lt;x&gt; "
        "&quot;y&quot;</Message></Error>";
    EXPECT_EQ(xml_element(error, "Code"), "NoSuchKey");
    EXPECT_EQ(xml_element(error, "Message"), "The key & <x> \"y\"");
    EXPECT_EQ(xml_element(error, "UploadId"), std::nullopt);
    EXPECT_EQ(xml_element("<Code>unterminated", "Code"), std::nullopt);
    EXPECT_EQ(xml_element("<ETag>&quot;abc-2&quot;</ETag>", "ETag"), "\"abc-2\"");
}

TEST(ServiceStoreUrl, UnknownStoresAndMissingCredentialsRefused) {
    TempDir dir;
    auto ftp = open_dump_store("ftp://x", dir.path);
    ASSERT_FALSE(ftp.ok());
    EXPECT_NE(ftp.error().message.find("expected file:"), std::string::npos);
    EXPECT_FALSE(open_dump_store("file:", dir.path).ok());
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    auto s3 = open_dump_store("s3://bucket?endpoint=http://127.0.0.1:1", dir.path);
    ASSERT_FALSE(s3.ok());
    EXPECT_NE(s3.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(ServiceStoreUrl, FileStoreThroughTheInterface) {
    TempDir dir;
    const std::string shared = dir.path + "/shared";
    auto store = open_dump_store("file:" + shared, dir.path + "/data");
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->describe(), shared + "/dumps");
    {
        auto upload = (*store)->begin();
        ASSERT_TRUE(upload.ok());
        ASSERT_TRUE((*upload)->write("MDMP").ok());
        ASSERT_TRUE((*upload)->write("-rest-of-it").ok());
        EXPECT_EQ((*upload)->size(), 15u);
        ASSERT_TRUE((*upload)->commit(kId).ok());
        EXPECT_FALSE((*upload)->store_unavailable());
    }
    {
        auto abandoned = (*store)->begin();
        ASSERT_TRUE(abandoned.ok());
        ASSERT_TRUE((*abandoned)->write("half").ok());
    }
    EXPECT_EQ(test_files::load(shared + "/dumps/" + kId).size(), 15u);
    EXPECT_EQ(std::system(("test $(ls -A '" + shared + "/dumps' | wc -l) = 1").c_str()), 0);
    // --data holds nothing of the store's.
    EXPECT_NE(::access((dir.path + "/data/dumps").c_str(), F_OK), 0);

    EXPECT_EQ(*(*store)->size_of(kId), 15u);
    auto read = [&](uint64_t offset, uint64_t length) {
        std::string out;
        const Status status = (*store)->read(kId, offset, length, [&](const char* data, size_t n) {
            out.append(data, n);
            return true;
        });
        EXPECT_TRUE(status.ok()) << status.error().message;
        return out;
    };
    EXPECT_EQ(read(4, UINT64_MAX), "-rest-of-it");
    EXPECT_EQ(read(5, 4), "rest");
    EXPECT_EQ(read(0, 0), "");
    EXPECT_EQ(read(15, 10), "");
    {
        auto local = (*store)->fetch(kId);
        ASSERT_TRUE(local.ok());
        EXPECT_EQ(local->path(), shared + "/dumps/" + kId);
    }
    // The stored file is not a temporary copy: still there.
    EXPECT_EQ(::access((shared + "/dumps/" + kId).c_str(), F_OK), 0);

    EXPECT_FALSE((*store)->fetch("../../etc/passwd").ok());
    EXPECT_FALSE((*store)->size_of("..").ok());
    EXPECT_FALSE((*store)->remove("../x").ok());
    ASSERT_TRUE((*store)->remove(kId).ok());
    EXPECT_NE(::access((shared + "/dumps/" + kId).c_str(), F_OK), 0);
    EXPECT_TRUE((*store)->remove(kId).ok()) << "already gone is not an error";
    EXPECT_FALSE((*store)->size_of(kId).ok());
}

TEST(ServiceStoreUrl, DefaultStoreIsDataDumps) {
    TempDir dir;
    auto store = open_dump_store("", dir.path + "/data");
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->describe(), dir.path + "/data/dumps");
    struct stat st {};
    ASSERT_EQ(::stat((dir.path + "/data/dumps").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(ServiceStoreUrl, TemporaryLocalDumpIsRemovedWithIt) {
    TempDir dir;
    const std::string copy = dir.path + "/.fetch-copy";
    test_files::save(copy, {1, 2, 3});
    {
        LocalDump local(copy, true);
        LocalDump moved(std::move(local));
        EXPECT_EQ(::access(copy.c_str(), F_OK), 0);
    }
    EXPECT_NE(::access(copy.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace dumpscope::service
