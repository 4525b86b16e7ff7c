// `dumpscope server` (docs/service.md) as clients use it: a real server on a free port over a
// temporary --data directory, uploads in Breakpad's protocol (from the library's crash handler
// and from a client here), the JSON API, and a restart on the same data.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "service_support.h"
#include "support.h"

namespace {

using namespace test_support;
using namespace service_support;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The library's crash handler (examples/crash_handler.c) crashes in crash_null_write and uploads
// its dump to /submit, annotations included; the server processes it like `analyze`.
TEST(Service, CrashHandlerUploadIsProcessedWithItsSignature) {
    TempDir data, dumps;
    ServerProcess server(data.path());
    const CommandResult crashed = run({"env", "DUMPSCOPE_UPLOAD_URL=" + server.url() + "/submit",
                                       example("crash_handler"), dumps.path(), "null"},
                                      kGenerousSeconds);
    EXPECT_EQ(crashed.signal, SIGSEGV) << crashed.out << crashed.err;

    json listed;
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    while (Clock::now() < deadline) {
        listed = get_json(server, "/api/crashes");
        if (listed.is_object() && !listed.at("crashes").empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(listed.is_object() && listed.at("crashes").size() == 1u) << listed.dump();
    const std::string id = listed.at("crashes").at(0).at("id");
    EXPECT_EQ(id.size(), 32u);

    const json crash = wait_until_done(server, id);
    ASSERT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
    EXPECT_EQ(crash.at("program"), "crash_handler");
    EXPECT_EQ(crash.at("format"), "minidump");
    EXPECT_EQ(crash.at("crash_class"), "null-dereference");
    EXPECT_TRUE(crash.at("error").is_null());
    const std::string signature = crash.at("signature");
    EXPECT_NE(signature.find("crash_null_write"), std::string::npos) << signature;
    EXPECT_EQ(crash.at("annotations").value("version", ""), "1.2.3") << crash.at("annotations");
    EXPECT_EQ(crash.at("annotations").value("mode", ""), "null") << crash.at("annotations");
    const json& analysis = crash.at("analysis");
    ASSERT_TRUE(analysis.is_object());
    EXPECT_EQ(analysis.at("signature"), signature);
    ASSERT_FALSE(analysis.at("findings").empty());
    const json& first = analysis.at("findings").at(0);
    EXPECT_EQ(first.at("kind"), "crash") << first.dump(1);
    EXPECT_EQ(first.at("crash").at("signal"), "SIGSEGV") << first.dump(1);
    EXPECT_EQ(first.at("crash").at("frame").at("function"), "crash_null_write") << first.dump(1);

    // Stored 0600, and served back byte for byte: the file the handler also left on disk.
    struct stat st {};
    ASSERT_EQ(::stat((data.path() + "/dumps/" + id).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::string written;
    for (const std::string& f : dumps.files())
        if (f.size() > 4 && f.compare(f.size() - 4, 4, ".dmp") == 0)
            written = file_text(dumps.path() + "/" + f);
    ASSERT_FALSE(written.empty());
    httplib::Client c = server.client();
    auto download = c.Get("/api/crashes/" + id + "/dump", with_token());
    ASSERT_TRUE(download);
    EXPECT_EQ(download->status, 200);
    EXPECT_TRUE(download->body == written) << "the downloaded dump differs from the uploaded one";

    // Top crashers, and the list filtered by signature and program.
    const json signatures = get_json(server, "/api/signatures");
    ASSERT_EQ(signatures.at("signatures").size(), 1u) << signatures.dump(1);
    EXPECT_EQ(signatures.at("signatures").at(0).at("signature"), signature);
    EXPECT_EQ(signatures.at("signatures").at(0).at("count"), 1);
    EXPECT_EQ(signatures.at("signatures").at(0).at("programs"), json::array({"crash_handler"}));
    EXPECT_EQ(signatures.at("signatures").at(0).at("versions"), json::array({"1.2.3"}));
    EXPECT_EQ(get_json(server, "/api/crashes?class=null-dereference").at("crashes").size(), 1u);
    EXPECT_EQ(get_json(server, "/api/crashes?class=abort").at("crashes").size(), 0u);
    EXPECT_EQ(get_json(server, "/api/crashes?program=crash_handler").at("crashes").size(), 1u);
    EXPECT_EQ(get_json(server, "/api/crashes?program=other").at("crashes").size(), 0u);
    auto by_signature =
        server.client().Get("/api/crashes", {{"signature", signature}}, with_token());
    ASSERT_TRUE(by_signature);
    EXPECT_EQ(json::parse(by_signature->body).at("crashes").size(), 1u) << by_signature->body;

    // Without the token, or with a wrong one: 401 on every API route, the dump included.
    const std::vector<std::string> api_paths{"/api/crashes/" + id, "/api/crashes",
                                             "/api/signatures", "/api/crashes/" + id + "/dump",
                                             "/api/nothing"};
    for (const std::string& path : api_paths) {
        auto none = c.Get(path);
        ASSERT_TRUE(none);
        EXPECT_EQ(none->status, 401) << path;
        EXPECT_EQ(none->body.find("MDMP"), std::string::npos);
        auto wrong = c.Get(path, with_token(std::string(kToken) + "x"));
        ASSERT_TRUE(wrong);
        EXPECT_EQ(wrong->status, 401) << path;
        auto shorter = c.Get(path, with_token("test"));
        ASSERT_TRUE(shorter);
        EXPECT_EQ(shorter->status, 401) << path;
    }
    auto reprocess_without = c.Post("/api/crashes/" + id + "/reprocess");
    ASSERT_TRUE(reprocess_without);
    EXPECT_EQ(reprocess_without->status, 401);

    // Reprocess: back to the queue, then processed again to the same result.
    auto reprocess = c.Post("/api/crashes/" + id + "/reprocess", with_token(), "", "text/plain");
    ASSERT_TRUE(reprocess);
    EXPECT_EQ(reprocess->status, 202) << reprocess->body;
    const json again = wait_until_done(server, id);
    EXPECT_EQ(again.value("status", ""), "processed");
    EXPECT_EQ(again.at("signature"), signature);

    // Unknown and malformed ids: 404, nothing looked up on disk.
    int status = 0;
    get_json(server, "/api/crashes/0123456789abcdef0123456789abcdef", &status);
    EXPECT_EQ(status, 404);
    get_json(server, "/api/crashes/..%2f..%2fcrashes.db/dump", &status);
    EXPECT_EQ(status, 404);
    get_json(server, "/api/crashes/" + id + "x", &status);
    EXPECT_EQ(status, 404);
}

// A gzip body (Content-Encoding: gzip, as Crashpad sends) is undone before the form is read.
TEST(Service, GzipBodyIsAccepted) {
    TempDir data, dumps;
    ServerProcess server(data.path());
    const std::string dump = file_text(healthy_dump(dumps));
    const Upload upload =
        submit(server, form_body({{"prod", "healthy"}, {"ver", "7"}}, dump), true);
    const std::string id = crash_id_of(upload);
    ASSERT_FALSE(id.empty()) << upload.status << " " << upload.body;
    const json crash = wait_until_done(server, id);
    EXPECT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
    EXPECT_EQ(crash.at("program"), "fixture_healthy");
    EXPECT_EQ(crash.at("dump_size"), dump.size());
    EXPECT_EQ(crash.at("annotations"), (json{{"prod", "healthy"}, {"ver", "7"}}));
    httplib::Client c = server.client();
    auto download = c.Get("/api/crashes/" + id + "/dump", with_token());
    ASSERT_TRUE(download);
    EXPECT_TRUE(download->body == dump);
}

// Every dump dumpscope reads is accepted: minidumps and ELF cores, plain or zstd-compressed
// (`collect --compress`); stored as uploaded, analyzed with the right reader.
TEST(Service, MinidumpsCoresAndZstdDumpsAreProcessed) {
    TempDir data, dumps;
    ServerProcess server(data.path());
    Fixture target("fixture_healthy");
    struct Case {
        const char* format;
        bool compress;
        const char* reader;
    };
    for (const Case& c : {Case{"minidump", false, "minidump"}, Case{"core", false, "elf-core"},
                          Case{"minidump", true, "minidump"}, Case{"core", true, "elf-core"}}) {
        const std::string path = dumps.path() + "/" + c.format +
                                 (std::string(c.format) == "core" ? ".core" : ".dmp") +
                                 (c.compress ? ".zst" : "");
        std::vector<std::string> argv{dumpscope_binary(), "collect", "--quiet", "--type", "mini",
                                      "--format",         c.format};
        if (c.compress) argv.push_back("--compress");
        argv.push_back(std::to_string(target.pid()));
        argv.push_back(path);
        const CommandResult collected = run(argv);
        ASSERT_EQ(collected.exit_code, 0) << collected.err;
        const std::string dump = file_text(path);
        if (c.compress) {
            ASSERT_GE(dump.size(), 4u);
            EXPECT_EQ(dump.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4)) << "zstd magic";
        }
        const std::string id = crash_id_of(submit(server, form_body({{"prod", path}}, dump)));
        ASSERT_FALSE(id.empty()) << path;
        const json crash = wait_until_done(server, id);
        EXPECT_EQ(crash.value("status", ""), "processed") << path << " " << crash.dump(1);
        EXPECT_EQ(crash.at("format"), c.reader) << path;
        EXPECT_EQ(crash.at("program"), "fixture_healthy") << path;
        EXPECT_EQ(crash.at("dump_size"), dump.size()) << path;
    }
}

// Garbage in the dump part: stored, then failed with the reader's one-line error; the server
// keeps serving. Bad forms are refused with 400 and a message.
TEST(Service, GarbageFailsWithTheReadersErrorAndTheServerStaysUp) {
    TempDir data;
    ServerProcess server(data.path());
    const std::string id = crash_id_of(
        submit(server, form_body({{"prod", "garbage"}}, std::string("not a dump at all\n"))));
    ASSERT_FALSE(id.empty());
    const json crash = wait_until_done(server, id);
    EXPECT_EQ(crash.value("status", ""), "failed") << crash.dump(1);
    const std::string error = crash.at("error");
    EXPECT_NE(error.find("neither a minidump nor an ELF core"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_TRUE(crash.at("analysis").is_null());
    EXPECT_TRUE(server.alive());

    // A truncated minidump header: the reader refuses it, the worker survives.
    const std::string truncated =
        crash_id_of(submit(server, form_body({}, std::string("MDMP\x93\xa7\0\0\x10\0\0\0", 12))));
    ASSERT_FALSE(truncated.empty());
    EXPECT_EQ(wait_until_done(server, truncated).value("status", ""), "failed");
    EXPECT_TRUE(server.alive());

    const Upload no_dump = submit(server, form_body({{"prod", "x"}}, std::nullopt));
    EXPECT_EQ(no_dump.status, 400);
    EXPECT_NE(no_dump.body.find("upload_file_minidump"), std::string::npos) << no_dump.body;
    const Upload empty_dump = submit(server, form_body({}, std::string()));
    EXPECT_EQ(empty_dump.status, 400) << empty_dump.body;
    httplib::Client c = server.client();
    auto not_a_form = c.Post("/submit", "raw bytes", "application/octet-stream");
    ASSERT_TRUE(not_a_form);
    EXPECT_EQ(not_a_form->status, 400);
    EXPECT_TRUE(server.alive());
    EXPECT_EQ(get_json(server, "/api/crashes").at("crashes").size(), 2u);
}

// The readers' fuzz corpus and the inputs that once crashed them, whole, truncated and with
// bytes flipped: every upload ends processed or failed (with a one-line error), and the server
// never goes down.
TEST(Service, MalformedCorpusNeverTakesTheServerDown) {
    TempDir data;
    ServerProcess server(data.path(), {"--workers", "2"});
    std::vector<std::string> inputs;
    for (const char* dir : {"corpus/minidump", "corpus/core", "crashers/minidump", "crashers/core"})
        for (const std::string& name :
             entries_of(std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/fuzz/" + dir))
            inputs.push_back(
                file_text(std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/fuzz/" + dir + "/" + name));
    ASSERT_GE(inputs.size(), 8u);
    std::mt19937 random(15);
    std::vector<std::string> uploads;
    for (const std::string& input : inputs) {
        uploads.push_back(input);
        uploads.push_back(input.substr(0, input.size() / 2));
        uploads.push_back(input.substr(0, 64));
        std::string flipped = input;
        for (int i = 0; i < 32; ++i)
            flipped[random() % flipped.size()] ^= static_cast<char>(1 + random() % 255);
        uploads.push_back(flipped);
    }
    std::vector<std::string> ids;
    for (const std::string& upload : uploads) {
        const std::string id = crash_id_of(submit(server, form_body({}, upload)));
        ASSERT_FALSE(id.empty());
        ids.push_back(id);
    }
    int processed = 0, failed = 0;
    for (const std::string& id : ids) {
        const json crash = wait_until_done(server, id);
        ASSERT_TRUE(server.alive()) << "the server died on crash " << id;
        if (crash.value("status", "") == "processed") {
            ++processed;
            EXPECT_TRUE(crash.at("analysis").is_object());
        } else {
            ++failed;
            ASSERT_EQ(crash.value("status", ""), "failed") << crash.dump(1);
            const std::string error = crash.at("error");
            EXPECT_FALSE(error.empty());
            EXPECT_EQ(error.find('\n'), std::string::npos) << error;
        }
    }
    EXPECT_GT(processed, 0);
    EXPECT_GT(failed, 0);
    EXPECT_TRUE(server.alive());
}

// --max-upload-mb: a bigger dump is refused with 413 and says why, also when only its
// decompressed size is over (a small gzip body of zeros); nothing is stored.
TEST(Service, UploadsOverTheLimitAre413) {
    TempDir data;
    ServerProcess server(data.path(), {"--max-upload-mb", "1"});
    // 2 MiB: refused by the server while reading the form; 4 MiB: by its Content-Length.
    std::mt19937 random(7);
    for (const size_t size : {size_t{2} << 20, size_t{4} << 20}) {
        std::string big(size, '\0');
        for (char& b : big) b = static_cast<char>(random());
        const Upload plain = submit(server, form_body({}, big));
        EXPECT_EQ(plain.status, 413) << size;
        EXPECT_NE(plain.body.find("limit of 1 MiB"), std::string::npos) << plain.body;
    }

    const std::string zeros(3 << 20, '\0');
    const std::string body = form_body({}, zeros);
    ASSERT_LT(gzip(body).size(), size_t{1} << 20);
    const Upload bomb = submit(server, body, true);
    EXPECT_EQ(bomb.status, 413);
    EXPECT_NE(bomb.body.find("limit of 1 MiB"), std::string::npos) << bomb.body;

    EXPECT_TRUE(server.alive());
    EXPECT_EQ(get_json(server, "/api/crashes").at("crashes").size(), 0u);
    EXPECT_EQ(entries_of(data.path() + "/dumps"), std::vector<std::string>{});
}

// A full disk: the upload is refused with 507 and nothing of it is left; the server goes on and
// takes the next upload that fits. The server runs in a mount namespace of its own, its dumps on a
// 2 MiB tmpfs (the test sees it through /proc/PID/root).
TEST(Service, FullDiskIs507AndLeavesNothing) {
    if (run({"unshare", "-m", "true"}).exit_code != 0)
        GTEST_SKIP() << "no mount namespaces here (unshare -m)";
    // The tmpfs holds the dumps only: they are what fills the disk (a full index is a 500).
    TempDir data;
    ServerProcess server(data.path(), {},
                         {"unshare", "-m", "sh", "-c",
                          "mkdir -p \"$1/dumps\" && mount -t tmpfs -o size=2m,mode=0700 tmpfs "
                          "\"$1/dumps\" && shift && exec \"$@\"",
                          "sh", data.path()});
    std::string big(3 << 20, '\0');
    std::mt19937 random(5);
    for (char& b : big) b = static_cast<char>(random());
    const Upload full = submit(server, form_body({}, big));
    EXPECT_EQ(full.status, 507) << full.body;
    EXPECT_NE(full.body.find("disk is full"), std::string::npos) << full.body;
    const std::string dumps =
        "/proc/" + std::to_string(server.pid()) + "/root" + data.path() + "/dumps";
    EXPECT_EQ(entries_of(dumps), std::vector<std::string>{});
    EXPECT_TRUE(server.alive());
    const std::string id = crash_id_of(submit(server, form_body({}, std::string("small"))));
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(entries_of(dumps), std::vector<std::string>{id});
    EXPECT_EQ(get_json(server, "/api/crashes").at("crashes").size(), 1u);

    // Dumps smaller than the upload's write buffer reach the disk only when committed: filling
    // the rest of it with them ends in the same 507, and nothing of the refused one is left.
    std::vector<std::string> stored{id};
    Upload refused;
    for (int i = 0; i < 20 && refused.status == 0; ++i) {
        const Upload next = submit(server, form_body({}, big.substr(0, 200 << 10)));
        if (next.status == 200)
            stored.push_back(crash_id_of(next));
        else
            refused = next;
    }
    EXPECT_EQ(refused.status, 507) << refused.body;
    EXPECT_NE(refused.body.find("disk is full"), std::string::npos) << refused.body;
    std::vector<std::string> left = entries_of(dumps);
    std::sort(left.begin(), left.end());
    std::sort(stored.begin(), stored.end());
    EXPECT_EQ(left, stored);
    EXPECT_TRUE(server.alive());
}

// --max-uploads-per-minute: one client's upload past its share is refused with 429 and
// Retry-After, before anything is stored; the API is not limited.
TEST(Service, UploadsOverTheRateAre429) {
    TempDir data;
    ServerProcess server(data.path(), {"--max-uploads-per-minute", "3"});
    for (int i = 0; i < 3; ++i)
        EXPECT_FALSE(crash_id_of(submit(server, form_body({}, std::string("dump")))).empty()) << i;
    httplib::Client c = server.client();
    auto refused = c.Post("/submit", form_body({}, std::string("dump")),
                          std::string("multipart/form-data; boundary=") + kBoundary);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 429);
    EXPECT_NE(refused->body.find("too many uploads"), std::string::npos) << refused->body;
    const int retry = std::stoi(refused->get_header_value("Retry-After"));
    EXPECT_GT(retry, 0);
    EXPECT_LE(retry, 20);
    EXPECT_EQ(get_json(server, "/api/crashes").at("crashes").size(), 3u);
}

// A restart on the same --data loses nothing: crashes stay with their results, and a crash a
// killed server left in `processing` is queued again and processed.
TEST(Service, RestartKeepsCrashesAndRequeuesInterruptedOnes) {
    TempDir data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    std::string id;
    json before;
    {
        ServerProcess server(data.path());
        id = crash_id_of(submit(server, form_body({{"prod", "restart"}}, dump)));
        ASSERT_FALSE(id.empty());
        before = wait_until_done(server, id);
        ASSERT_EQ(before.value("status", ""), "processed") << before.dump(1);
    }
    {
        ServerProcess server(data.path());
        const json after = get_json(server, "/api/crashes/" + id);
        EXPECT_EQ(after, before);
    }
    if (!have_program("sqlite3")) GTEST_SKIP() << "no sqlite3 to mark the crash interrupted";
    // As a server killed mid-analysis leaves it.
    const CommandResult marked = run({"sqlite3", data.path() + "/crashes.db",
                                      "UPDATE crashes SET status = 'processing', signature = "
                                      "NULL, analysis_json = NULL"});
    ASSERT_EQ(marked.exit_code, 0) << marked.err;
    ServerProcess server(data.path());
    const json again = wait_until_done(server, id);
    EXPECT_EQ(again.value("status", ""), "processed") << again.dump(1);
    EXPECT_EQ(again.at("signature"), before.at("signature"));
    EXPECT_EQ(again.at("analysis").at("findings"), before.at("analysis").at("findings"));
}

// --workers 0: an ingest-only server takes uploads and leaves them queued (no worker exists, so
// "still queued" right after the upload is certain, not a race); a server with workers on the same
// data processes them.
TEST(Service, IngestOnlyServerLeavesCrashesForOthersToProcess) {
    TempDir data, dumps;
    const std::string dump = file_text(healthy_dump(dumps));
    std::string id;
    {
        ServerProcess ingest(data.path(), {"--workers", "0"});
        id = crash_id_of(submit(ingest, form_body({{"prod", "ingest-only"}}, dump)));
        ASSERT_FALSE(id.empty());
        EXPECT_EQ(get_json(ingest, "/api/crashes/" + id).value("status", ""), "queued");
        EXPECT_EQ(ingest.terminate(60), 0);
    }
    ServerProcess worker(data.path());
    EXPECT_EQ(wait_until_done(worker, id).value("status", ""), "processed");
}

// GET /api/status: the uploads being stored and the deferral threshold, behind the token; an
// idle server with --defer-analyses-at 1 processes at once (tests/unit/service_worker_pool_test.cpp
// holds uploads in progress and watches the workers wait).
TEST(Service, StatusShowsTheIngestAndAnIdleServerDoesNotDefer) {
    TempDir data, dumps;
    ServerProcess server(data.path(), {"--workers", "1", "--defer-analyses-at", "1"});
    const json status = get_json(server, "/api/status");
    EXPECT_EQ(status.value("uploads_storing", -1), 0) << status.dump();
    EXPECT_EQ(status.value("defer_analyses_at", -1), 1) << status.dump();
    EXPECT_FALSE(status.value("analyses_deferred", true)) << status.dump();
    httplib::Client c = server.client();
    auto anonymous = c.Get("/api/status");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);

    const std::string id =
        crash_id_of(submit(server, form_body({}, file_text(healthy_dump(dumps)))));
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(wait_until_done(server, id).value("status", ""), "processed");
    EXPECT_EQ(get_json(server, "/api/status").value("uploads_storing", -1), 0);
}

// The pages: the login form without a session; the token through the form gives a session
// cookie; then top crashers, the crash with its annotations escaped, and the stored report.
TEST(Service, PagesNeedALoginAndShowTheCrash) {
    TempDir data, dumps;
    ServerProcess server(data.path());
    const std::string dump = file_text(healthy_dump(dumps));
    const std::string id =
        crash_id_of(submit(server, form_body({{"note", "<script>alert(1)</script>"}}, dump)));
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(wait_until_done(server, id).value("status", ""), "processed");

    httplib::Client c = server.client();
    auto anonymous = c.Get("/");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);
    EXPECT_NE(anonymous->body.find("action=\"/login\""), std::string::npos);
    auto no_crash = c.Get("/crashes/" + id);
    ASSERT_TRUE(no_crash);
    EXPECT_EQ(no_crash->status, 401);
    // The login form comes back to the page asked for (its id), and shows nothing of the crash.
    EXPECT_NE(no_crash->body.find("name=\"next\" value=\"/crashes/" + id + "\""),
              std::string::npos);
    EXPECT_EQ(no_crash->body.find("alert(1)"), std::string::npos);
    EXPECT_EQ(no_crash->body.find("fixture_healthy"), std::string::npos);

    auto wrong = c.Post("/login", httplib::Params{{"token", "nope"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_FALSE(wrong->has_header("Set-Cookie"));
    auto login = c.Post("/login", httplib::Params{{"token", kToken}});
    ASSERT_TRUE(login);
    EXPECT_EQ(login->status, 303);
    const std::string cookie = login->get_header_value("Set-Cookie");
    ASSERT_EQ(cookie.rfind("dumpscope_session=", 0), 0u) << cookie;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    const httplib::Headers session{{"Cookie", cookie.substr(0, cookie.find(';'))}};

    auto top = c.Get("/", session);
    ASSERT_TRUE(top);
    EXPECT_EQ(top->status, 200);
    EXPECT_NE(top->body.find("<svg class=\"trend\""), std::string::npos) << top->body;
    // The healthy dump's (empty) signature: its page names the program.
    auto signature = c.Get("/signature?signature=", session);
    ASSERT_TRUE(signature);
    EXPECT_EQ(signature->status, 200);
    EXPECT_NE(signature->body.find("fixture_healthy"), std::string::npos) << signature->body;
    EXPECT_NE(top->get_header_value("Content-Security-Policy").find("default-src 'none'"),
              std::string::npos);
    auto list = c.Get("/crashes", session);
    ASSERT_TRUE(list);
    EXPECT_NE(list->body.find("/crashes/" + id), std::string::npos);
    auto page = c.Get("/crashes/" + id, session);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos)
        << page->body;
    EXPECT_EQ(page->body.find("<script>"), std::string::npos);
    // The API's token works for the pages too; the report is analyze's page.
    auto report = c.Get("/crashes/" + id + "/report", with_token());
    ASSERT_TRUE(report);
    EXPECT_EQ(report->status, 200);
    EXPECT_EQ(report->body.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(report->body.find("fixture_healthy"), std::string::npos);
    auto forged = c.Get("/", {{"Cookie", "dumpscope_session=0123456789abcdef0123456789abcdef"}});
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->status, 401);
}

// Polls until GET /api/crashes/ID answers 404 (retention deleted it); false if it never does.
bool wait_until_gone(const ServerProcess& server, const std::string& id) {
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    while (Clock::now() < deadline) {
        int status = 0;
        get_json(server, "/api/crashes/" + id, &status);
        if (status == 404) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// Retention: --max-per-signature deletes a signature's oldest crashes beyond the cap but its
// first; --quota-mb then deletes the oldest crash outside the first and last of each signature
// (a failed one here). What is deleted is 404 in the API and gone from DATA/dumps; the rest stays.
TEST(Service, RetentionCapsSignaturesAndKeepsTheStoreWithinTheQuota) {
    TempDir data, dumps, other_dumps;
    ServerProcess server(data.path(), {"--quota-mb", "1", "--max-per-signature", "2",
                                       "--keep-first", "1", "--keep-last", "1", "--workers", "1"});
    const std::string healthy = file_text(healthy_dump(dumps));
    std::string deadlocked;
    {
        Fixture target("fixture_deadlock");
        deadlocked = file_text(collect_into(other_dumps.path(), target.pid(), "mini", "minidump"));
    }
    // The quota arithmetic below needs the three small crashes kept under 224 KiB in all (1 MiB
    // less two 400 KiB failed uploads).
    ASSERT_LT(healthy.size(), 72u << 10);
    ASSERT_LT(deadlocked.size(), 72u << 10);

    auto upload = [&](const std::string& dump) {
        const std::string id = crash_id_of(submit(server, form_body({}, dump)));
        EXPECT_FALSE(id.empty());
        return id;
    };
    // f: a[0..3], one at a time. With a cap of 2 keeping the first, each new one past the cap
    // takes the oldest but the first: a[1] when a[2] is processed, a[2] when a[3] is.
    std::vector<std::string> a;
    std::string f;
    for (int i = 0; i < 4; ++i) {
        a.push_back(upload(healthy));
        ASSERT_FALSE(a.back().empty());
        const json crash = wait_until_done(server, a.back());
        ASSERT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
        if (i == 0) f = crash.value("signature", "");
        EXPECT_EQ(crash.value("signature", ""), f);
        if (i >= 2) {
            ASSERT_TRUE(wait_until_gone(server, a[static_cast<size_t>(i) - 1])) << i;
        }
    }
    const std::string b = upload(deadlocked);
    ASSERT_FALSE(b.empty());
    const json b_crash = wait_until_done(server, b);
    ASSERT_EQ(b_crash.value("status", ""), "processed") << b_crash.dump(1);
    ASSERT_NE(b_crash.value("signature", ""), f) << "the two fixtures need two signatures";

    // Three failed crashes of 400 KiB: the third takes the store past 1 MiB, and the oldest crash
    // not protected is the first failed one (a[0], a[3] and b are their signature's first/last).
    const std::string garbage(400u << 10, 'g');
    std::vector<std::string> g;
    for (int i = 0; i < 3; ++i) {
        g.push_back(upload(garbage));
        ASSERT_FALSE(g.back().empty());
        if (i < 2) {
            EXPECT_EQ(wait_until_done(server, g.back()).value("status", ""), "failed");
        }
    }
    ASSERT_TRUE(wait_until_gone(server, g[0]));
    EXPECT_EQ(wait_until_done(server, g[2]).value("status", ""), "failed");

    const std::vector<std::string> kept = {a[0], a[3], b, g[1], g[2]};
    for (const std::string& id : kept) {
        int status = 0;
        get_json(server, "/api/crashes/" + id, &status);
        EXPECT_EQ(status, 200) << id;
    }
    for (const std::string& id : {a[1], a[2], g[0]}) {
        int status = 0;
        get_json(server, "/api/crashes/" + id, &status);
        EXPECT_EQ(status, 404) << id;
    }
    std::vector<std::string> files = entries_of(data.path() + "/dumps");
    std::vector<std::string> expected = kept;
    std::sort(files.begin(), files.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(files, expected);
}

// SIGTERM: the server stops accepting, lets its workers finish, and exits 0.
TEST(Service, SigtermStopsItCleanly) {
    TempDir data;
    ServerProcess server(data.path());
    ASSERT_EQ(get_json(server, "/api/crashes").at("crashes").size(), 0u);
    const int status = server.terminate(30);
    ASSERT_NE(status, -1) << "still running 30 s after SIGTERM";
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
