// `dumpscope server --store`: the dumps in an S3-compatible bucket (npm's s3rver, started here
// from tests/node/node_modules: `make deps` installs it) and in a file: directory outside --data.
// The bucket is read back through s3rver's own directory, not through dumpscope's client.
// s3rver checks that the access key exists but does not verify SigV4 signatures themselves.
#include <sys/stat.h>
#include <utime.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "service_support.h"

namespace {

using namespace service_support;

constexpr const char* kBucket = "dumpscope-test";

std::string node_tool(const std::string& path) {
    return std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/node/node_modules/" + path;
}

// A helper process that prints "<ready>PORT" once it accepts connections: started, waited for
// (no sleeps: its output is read), killed and reaped at the end.
class ListeningProcess {
public:
    ListeningProcess(const std::vector<std::string>& argv, const std::string& ready) {
        auto ready_line = [&](const std::string& text) {
            const size_t at = text.find(ready);
            return at != std::string::npos && text.find('\n', at) != std::string::npos;
        };
        StartedProcess started = start_reading_until(argv, ready_line);
        pid_ = started.pid;
        const std::string& text = started.output;
        if (!ready_line(text)) {
            kill_and_reap(pid_);
            throw std::runtime_error(argv[0] + " " + argv[1] + " did not start: '" + text + "'");
        }
        port_ = std::stoi(text.substr(text.find(ready) + ready.size()));
    }
    ~ListeningProcess() { kill_and_reap(pid_); }
    ListeningProcess(const ListeningProcess&) = delete;
    ListeningProcess& operator=(const ListeningProcess&) = delete;
    int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

// s3rver (`make deps` installs it) with one bucket, its objects kept under `dir`; and in front
// of it the SigV4-checking proxy (sigv4_check_proxy.py) with s3rver's key S3RVER/S3RVER, which
// logs every request it verified or refused.
class S3Store {
public:
    explicit S3Store(const std::string& dir)
        : dir_(dir),
          proxy_log_(dir + "/proxy.log"),
          s3rver_(s3rver_argv(dir), "S3rver listening on 127.0.0.1:"),
          proxy_({"python3",
                  std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/integration/sigv4_check_proxy.py",
                  std::to_string(s3rver_.port()), "S3RVER", "S3RVER", proxy_log_},
                 "listening on ") {}

    // Through the proxy (signatures checked) or straight to s3rver.
    std::string store_url(const std::string& extra = "", bool checked = true) const {
        return std::string("s3://") + kBucket + "?endpoint=http://127.0.0.1:" +
               std::to_string(checked ? proxy_.port() : s3rver_.port()) + "&region=us-east-1" +
               extra;
    }
    // The object as s3rver keeps it on its disk.
    std::string object_path(const std::string& key) const {
        return dir_ + "/data/" + kBucket + "/" + key + "._S3rver_object";
    }
    bool has_object(const std::string& key) const {
        return ::access(object_path(key).c_str(), F_OK) == 0;
    }
    std::vector<std::string> objects() const {
        return entries_of(dir_ + "/data/" + kBucket + "/dumps");
    }
    std::string proxy_log() const { return file_text(proxy_log_); }
    bool verified(const std::string& method, const std::string& key) const {
        return proxy_log().find("verified " + method + " /" + kBucket + "/" + key + "\n") !=
               std::string::npos;
    }
    bool refused(const std::string& key) const {
        return proxy_log().find(std::string("/") + kBucket + "/" + key + ": ") != std::string::npos;
    }

private:
    static std::vector<std::string> s3rver_argv(const std::string& dir) {
        const std::string script = node_tool("s3rver/bin/s3rver.js");
        if (::access(script.c_str(), R_OK) != 0)
            throw std::runtime_error(script + " is missing: run `make deps`");
        return {"node",      script, "-d", dir + "/data",        "-a",
                "127.0.0.1", "-p",   "0",  "--configure-bucket", kBucket,
                "--silent"};
    }
    std::string dir_;
    std::string proxy_log_;
    ListeningProcess s3rver_;
    ListeningProcess proxy_;
};

// The S3 credentials for the servers this test starts (they inherit the environment).
class Credentials {
public:
    Credentials(const char* id, const char* secret) {
        ::setenv("AWS_ACCESS_KEY_ID", id, 1);
        ::setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    }
    ~Credentials() {
        ::unsetenv("AWS_ACCESS_KEY_ID");
        ::unsetenv("AWS_SECRET_ACCESS_KEY");
    }
};

// Runs the server with its stderr appended to `log`.
std::vector<std::string> stderr_to(const std::string& log) {
    return {"sh", "-c", "exec \"$@\" 2>>'" + log + "'", "sh"};
}

std::string download(const ServerProcess& server, const std::string& id,
                     const std::string& range = "", int* status = nullptr) {
    httplib::Client c = server.client();
    httplib::Headers headers = with_token();
    if (!range.empty()) headers.emplace("Range", range);
    auto r = c.Get("/api/crashes/" + id + "/dump", headers);
    if (!r) return "";
    if (status != nullptr) *status = r->status;
    return r->body;
}

std::string random_bytes(size_t size, uint32_t seed) {
    std::mt19937 random(seed);
    std::string out(size, '\0');
    for (char& c : out) c = static_cast<char>(random() & 0xff);
    return out;
}

class ServiceDumpStore : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s3_dir_ = new TempDir();
        s3_ = new S3Store(s3_dir_->path());
    }
    static void TearDownTestSuite() {
        delete s3_;
        delete s3_dir_;
    }
    static TempDir* s3_dir_;
    static S3Store* s3_;
};

TempDir* ServiceDumpStore::s3_dir_ = nullptr;
S3Store* ServiceDumpStore::s3_ = nullptr;

TEST_F(ServiceDumpStore, S3UploadIsInTheBucketProcessedAndDownloadedByteForByte) {
    TempDir data;
    const Credentials credentials("S3RVER", "S3RVER");
    ServerProcess server(data.path() + "/data", {"--store", s3_->store_url()});
    const std::string dump = file_text(healthy_dump(data));
    const std::string id = crash_id_of(submit(server, form_body({{"prod", "store"}}, dump)));
    ASSERT_FALSE(id.empty());

    // In the bucket under dumps/<id>, as uploaded (read from s3rver's own files).
    ASSERT_TRUE(s3_->has_object("dumps/" + id));
    EXPECT_EQ(file_text(s3_->object_path("dumps/" + id)), dump);

    const json crash = wait_until_done(server, id);
    EXPECT_EQ(crash.value("status", ""), "processed") << crash.dump();
    EXPECT_EQ(crash.value("format", ""), "minidump");
    EXPECT_EQ(crash["dump_size"], dump.size());

    int status = 0;
    EXPECT_EQ(download(server, id, "", &status), dump);
    EXPECT_EQ(status, 200);
    // A ranged download is a ranged read of the object.
    EXPECT_EQ(download(server, id, "bytes=100-", &status), dump.substr(100));
    EXPECT_EQ(status, 206);
    EXPECT_EQ(download(server, id, "bytes=10-99", &status), dump.substr(10, 90));
    EXPECT_EQ(status, 206);

    // Every request signed as SigV4 says (checked by the proxy, not by libcurl).
    for (const char* method : {"PUT", "HEAD", "GET"})
        EXPECT_TRUE(s3_->verified(method, "dumps/" + id)) << method << "\n" << s3_->proxy_log();
    EXPECT_FALSE(s3_->refused("dumps/" + id)) << s3_->proxy_log();

    // Nothing is kept locally: no dumps directory, the spool empty once the analysis is done.
    EXPECT_NE(::access((data.path() + "/data/dumps").c_str(), F_OK), 0);
    EXPECT_TRUE(entries_of(data.path() + "/data/s3-spool").empty());
}

TEST_F(ServiceDumpStore, S3LargeUploadGoesInPartsAndComesBackWhole) {
    TempDir data;
    const Credentials credentials("S3RVER", "S3RVER");
    // Parts of 5 MiB (S3's minimum): 11 MiB is three parts.
    ServerProcess server(data.path() + "/data", {"--store", s3_->store_url("&part_mb=5")});
    const std::string blob = random_bytes((uint64_t{11} << 20) + 12345, 7);
    const std::string id = crash_id_of(submit(server, form_body({}, blob)));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(s3_->has_object("dumps/" + id));
    EXPECT_EQ(file_text(s3_->object_path("dumps/" + id)), blob);
    // Not a dump: failed with the reader's error, but stored and downloadable as uploaded.
    const json crash = wait_until_done(server, id);
    EXPECT_EQ(crash.value("status", ""), "failed");
    EXPECT_EQ(download(server, id), blob);
    EXPECT_TRUE(entries_of(data.path() + "/data/s3-spool").empty());
    // Initiated and completed (POST), the parts PUT, each request's signature checked.
    EXPECT_TRUE(s3_->verified("POST", "dumps/" + id)) << s3_->proxy_log();
    EXPECT_TRUE(s3_->verified("PUT", "dumps/" + id)) << s3_->proxy_log();
    EXPECT_FALSE(s3_->refused("dumps/" + id)) << s3_->proxy_log();
}

TEST_F(ServiceDumpStore, S3RetentionDeletesTheObject) {
    TempDir data;
    const Credentials credentials("S3RVER", "S3RVER");
    ServerProcess server(data.path() + "/data", {"--store", s3_->store_url(), "--quota-mb", "1"});
    // Three 400 KiB uploads (not dumps: they fail): the third takes the total past 1 MiB, and
    // the oldest goes before its CrashID answer. Each is done before the next, so none is being
    // processed (which retention never deletes) when the choice is made.
    std::vector<std::string> ids;
    for (uint32_t i = 0; i < 3; ++i) {
        ids.push_back(crash_id_of(submit(server, form_body({}, random_bytes(400 << 10, i)))));
        ASSERT_FALSE(ids.back().empty());
        if (i < 2) {
            EXPECT_EQ(wait_until_done(server, ids.back()).value("status", ""), "failed");
        }
    }
    int status = 0;
    get_json(server, "/api/crashes/" + ids[0], &status);
    EXPECT_EQ(status, 404);
    EXPECT_FALSE(s3_->has_object("dumps/" + ids[0]));
    EXPECT_TRUE(s3_->verified("DELETE", "dumps/" + ids[0])) << s3_->proxy_log();
    EXPECT_TRUE(s3_->has_object("dumps/" + ids[1]));
    EXPECT_TRUE(s3_->has_object("dumps/" + ids[2]));
}

// An unknown access key (s3rver refuses it) and a wrong secret (the proxy refuses the signature).
TEST_F(ServiceDumpStore, S3WrongCredentialsRefuseTheUploadAndQueueNothing) {
    struct Case {
        const char* key_id;
        const char* secret;
        bool checked;
        const char* error;
    };
    for (const Case& c : {Case{"NOT-A-KEY", "S3RVER", false, "HTTP 403 InvalidAccessKeyId"},
                          Case{"S3RVER", "wrong-secret", true, "HTTP 403 SignatureDoesNotMatch"}}) {
        SCOPED_TRACE(c.error);
        TempDir data;
        const std::string log = data.path() + "/stderr";
        const Credentials credentials(c.key_id, c.secret);
        ServerProcess server(data.path() + "/data", {"--store", s3_->store_url("", c.checked)},
                             stderr_to(log));
        const std::vector<std::string> before = s3_->objects();
        const Upload upload = submit(server, form_body({}, random_bytes(4096, 3)));
        EXPECT_EQ(upload.status, 503) << upload.body;
        EXPECT_NE(upload.body.find("dump store"), std::string::npos) << upload.body;

        EXPECT_EQ(get_json(server, "/api/crashes")["crashes"].size(), 0u);
        EXPECT_EQ(s3_->objects(), before);
        EXPECT_TRUE(entries_of(data.path() + "/data/s3-spool").empty());
        ASSERT_TRUE(server.alive());
        server.terminate(30);
        // One line naming the request, bucket, key, HTTP status and S3's error code.
        const std::string text = file_text(log);
        std::istringstream lines(text);
        std::string line, store_line;
        int store_lines = 0;
        while (std::getline(lines, line))
            if (line.find("S3 ") != std::string::npos) {
                store_line = line;
                ++store_lines;
            }
        EXPECT_EQ(store_lines, 1) << text;
        EXPECT_NE(store_line.find(std::string("S3 PUT s3://") + kBucket + "/dumps/"),
                  std::string::npos)
            << text;
        EXPECT_NE(store_line.find(c.error), std::string::npos) << text;
    }
}

TEST_F(ServiceDumpStore, S3StoreNeedsCredentials) {
    TempDir data;
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    EXPECT_THROW(ServerProcess(data.path() + "/data", {"--store", s3_->store_url()}),
                 std::runtime_error);
}

TEST(ServiceFileStore, DumpsLiveInTheStoreDirectoryOutsideData) {
    TempDir dir;
    const std::string store = dir.path() + "/shared";
    // A shared directory's temporary files may be another server's upload in progress: only
    // those idle for an hour are removed at start-up.
    ASSERT_EQ(::mkdir(store.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((store + "/dumps").c_str(), 0700), 0);
    for (const char* name : {"/dumps/.upload-stale", "/dumps/.upload-live"})
        std::ofstream(store + name) << "partial";
    const utimbuf two_hours_ago{::time(nullptr) - 7200, ::time(nullptr) - 7200};
    ASSERT_EQ(::utime((store + "/dumps/.upload-stale").c_str(), &two_hours_ago), 0);

    ServerProcess server(dir.path() + "/data", {"--store", "file:" + store});
    EXPECT_NE(::access((store + "/dumps/.upload-stale").c_str(), F_OK), 0);
    EXPECT_EQ(::access((store + "/dumps/.upload-live").c_str(), F_OK), 0);

    const std::string dump = file_text(healthy_dump(dir));
    const std::string id = crash_id_of(submit(server, form_body({}, dump)));
    ASSERT_FALSE(id.empty());
    const std::string path = store + "/dumps/" + id;
    EXPECT_EQ(file_text(path), dump);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(::access((dir.path() + "/data/dumps").c_str(), F_OK), 0);

    EXPECT_EQ(wait_until_done(server, id).value("status", ""), "processed");
    EXPECT_EQ(download(server, id), dump);
}

}  // namespace
