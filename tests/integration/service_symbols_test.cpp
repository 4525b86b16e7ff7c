// The symbol store of `dumpscope server` (docs/service.md, "Symbols"): a crash of a stripped
// program is processed without its function names; its debug file, uploaded by build-id, re-queues
// the crash, whose signature then names the crashing function; debuginfod-find and gdb (elfutils'
// and GNU's own clients, pointed at the server with DEBUGINFOD_URLS and the token in
// DEBUGINFOD_HEADERS_FILE) fetch the stored files byte for byte; bad uploads are refused and leave
// nothing behind. Build-ids are read with eu-readelf, not with dumpscope's code.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "monitored_child.h"
#include "service_support.h"

using namespace service_support;

namespace {

// The server and every client run here must not reach the network for symbols (Debian sets
// DEBUGINFOD_URLS for login shells), and dumpscope's cache of debug files is the test's own.
class NoNetworkSymbols : public ::testing::Environment {
public:
    void SetUp() override {
        ::unsetenv("DEBUGINFOD_URLS");
        cache_ = std::make_unique<TempDir>();
        ::setenv("DUMPSCOPE_CACHE_DIR", cache_->path().c_str(), 1);
    }
    void TearDown() override { cache_.reset(); }

private:
    std::unique_ptr<TempDir> cache_;
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoNetworkSymbols);

std::string build_id_of(const std::string& path) {
    const CommandResult r = run({"eu-readelf", "-n", path});
    const size_t at = r.out.find("Build ID: ");
    if (at == std::string::npos) return "";
    std::istringstream in(r.out.substr(at + 10));
    std::string id;
    in >> id;
    return id;
}

httplib::Result put_file(const ServerProcess& server, const std::string& build_id,
                         const std::string& bytes, const httplib::Headers& headers = with_token()) {
    httplib::Client c = server.client();
    return c.Put("/api/symbols/" + build_id, headers, bytes, "application/octet-stream");
}

// A stripped copy of fixture_crash_kinds (DIR/app) and its debug file kept aside (DIR/app.debug).
struct StrippedProgram {
    std::string program, debug_file, build_id;
};

StrippedProgram strip_fixture(const std::string& dir) {
    StrippedProgram out{dir + "/app", dir + "/app.debug", ""};
    std::filesystem::copy_file(fixture_path("fixture_crash_kinds"), out.program);
    EXPECT_EQ(run({"objcopy", "--only-keep-debug", out.program, out.debug_file}).exit_code, 0);
    EXPECT_EQ(run({"strip", "--strip-all", out.program}).exit_code, 0);
    out.build_id = build_id_of(out.program);
    EXPECT_EQ(out.build_id, build_id_of(out.debug_file));
    EXPECT_EQ(run({"eu-readelf", "-S", out.program}).out.find(".symtab"), std::string::npos);
    return out;
}

// `collect --crash` of the program writing through a null pointer: the minidump's path.
std::string crash_dump_of(const std::string& program, const std::string& dir) {
    TempDir logs;
    DrivenFixture target(program, {"null-write"});
    BackgroundCommand collect({dumpscope_binary(), "collect", "--type", "mini", "--crash",
                               std::to_string(target.pid()), dir},
                              logs.path());
    EXPECT_TRUE(collect.wait_for_output("monitoring", 60)) << collect.err();
    target.send("go");
    EXPECT_TRUE(target.wait_exit(60).has_value());
    EXPECT_EQ(collect.wait(120), 0) << collect.out() << collect.err();
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename();
        if (name.size() > 4 && name[0] != '.' && name.substr(name.size() - 4) == ".dmp")
            return entry.path();
    }
    ADD_FAILURE() << "no dump in " << dir;
    return "";
}

// Waits until the crash is processed again with a signature other than `before`.
json wait_for_new_signature(const ServerProcess& server, const std::string& id,
                            const std::string& before) {
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    json crash;
    while (Clock::now() < deadline) {
        crash = get_json(server, "/api/crashes/" + id);
        if (crash.is_object() && crash.value("status", "") == "processed" &&
            crash.value("signature", "") != before)
            return crash;
        if (crash.is_object() && crash.value("status", "") == "failed") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "crash " << id << " not reprocessed: " << crash.dump();
    return crash;
}

std::string headers_file(const std::string& dir, const std::string& token) {
    const std::string path = dir + "/debuginfod-headers";
    std::ofstream(path) << "Authorization: Bearer " << token << "\n";
    return path;
}

// debuginfod-find WHAT BUILDID against the server, with its own client cache.
CommandResult debuginfod_find(const ServerProcess& server, const std::string& what,
                              const std::string& build_id, const std::string& cache,
                              const std::string& headers) {
    std::vector<std::string> argv{"env", "DEBUGINFOD_URLS=" + server.url(),
                                  "DEBUGINFOD_CACHE_PATH=" + cache, "DEBUGINFOD_TIMEOUT=30"};
    if (!headers.empty()) argv.push_back("DEBUGINFOD_HEADERS_FILE=" + headers);
    for (const std::string& a : {std::string("debuginfod-find"), what, build_id}) argv.push_back(a);
    return run(argv, 120);
}

TEST(ServiceSymbols, DebugFileUploadReprocessesTheCrashAndIsServedOverDebuginfod) {
    ASSERT_TRUE(have_program("debuginfod-find")) << "debuginfod-find is missing (make deps)";
    ASSERT_TRUE(have_program("gdb")) << "gdb is missing (make deps)";
    TempDir dir, dumps, data;
    const StrippedProgram app = strip_fixture(dir.path());
    ASSERT_FALSE(app.build_id.empty());
    const std::string dump = crash_dump_of(app.program, dumps.path());
    ASSERT_FALSE(dump.empty());

    ServerProcess server(data.path());
    const std::string id = crash_id_of(submit(server, form_body({}, file_text(dump))));
    ASSERT_FALSE(id.empty());
    const json before = wait_until_done(server, id);
    ASSERT_EQ(before.value("status", ""), "processed") << before.dump();
    const std::string unnamed = before.value("signature", "");
    EXPECT_EQ(unnamed.find("write_through_null"), std::string::npos) << unnamed;
    EXPECT_NE(unnamed.find("app@0x"), std::string::npos) << "not a module+offset: " << unnamed;

    // The build-id index knows the crash has that module.
    int status = 0;
    json known = get_json(server, "/api/symbols/" + app.build_id, &status);
    ASSERT_EQ(status, 200) << known.dump();
    EXPECT_TRUE(known.at("debuginfo").is_null());
    EXPECT_EQ(known.at("crashes"), json::array({id}));

    // The debug file arrives: stored, the crash re-queued and processed with names.
    const std::string debug_bytes = file_text(app.debug_file);
    auto put = put_file(server, app.build_id, debug_bytes);
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
    const json answer = json::parse(put->body);
    EXPECT_EQ(answer.at("stored_as"), json::array({"debuginfo"}));
    EXPECT_EQ(answer.at("requeued"), json::array({id}));
    const json after = wait_for_new_signature(server, id, unnamed);
    const std::string named = after.value("signature", "");
    EXPECT_EQ(named.rfind("write_through_null", 0), 0u) << named;

    const std::string stored = data.path() + "/symbols/.build-id/" + app.build_id.substr(0, 2) +
                               "/" + app.build_id.substr(2) + ".debug";
    struct stat st {};
    ASSERT_EQ(::stat(stored.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(file_text(stored), debug_bytes);
    known = get_json(server, "/api/symbols/" + app.build_id, &status);
    EXPECT_EQ(known.at("debuginfo").at("size"), debug_bytes.size());
    EXPECT_TRUE(known.at("executable").is_null());

    // The same file again: nothing changes, nothing is re-queued.
    put = put_file(server, app.build_id, debug_bytes);
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 200) << put->body;
    EXPECT_EQ(json::parse(put->body).at("requeued"), json::array());

    // elfutils' client, with the token from DEBUGINFOD_HEADERS_FILE; refused without it.
    const std::string headers = headers_file(dir.path(), kToken);
    const CommandResult found =
        debuginfod_find(server, "debuginfo", app.build_id, dir.path() + "/cache1", headers);
    ASSERT_EQ(found.exit_code, 0) << found.err;
    std::string path = found.out.substr(0, found.out.find('\n'));
    EXPECT_EQ(file_text(path), debug_bytes);
    const CommandResult refused =
        debuginfod_find(server, "debuginfo", app.build_id, dir.path() + "/cache2", "");
    EXPECT_NE(refused.exit_code, 0) << refused.out;
    const CommandResult absent =
        debuginfod_find(server, "executable", app.build_id, dir.path() + "/cache3", headers);
    EXPECT_NE(absent.exit_code, 0) << absent.out;

    // gdb on the stripped program finds the function's source line through the server.
    const std::string gdb_cache = dir.path() + "/gdb-cache";
    const CommandResult gdb =
        run({"env", "DEBUGINFOD_URLS=" + server.url(), "DEBUGINFOD_CACHE_PATH=" + gdb_cache,
             "DEBUGINFOD_HEADERS_FILE=" + headers, "gdb", "-nx", "-batch", "-iex",
             "set debuginfod enabled on", "-ex", "info line write_through_null", app.program},
            120);
    EXPECT_NE(gdb.out.find("fixture_crash_kinds.c"), std::string::npos) << gdb.out << gdb.err;
    EXPECT_EQ(file_text(gdb_cache + "/" + app.build_id + "/debuginfo"), debug_bytes);
}

TEST(ServiceSymbols, BinariesAreServedAsExecutableAndBadUploadsAreRefused) {
    TempDir dir, data;
    ServerProcess server(data.path(), {"--max-symbol-mb", "1"});
    // An unstripped binary is both the executable and its debug information.
    const std::string binary = fixture_path("fixture_healthy");
    const std::string build_id = build_id_of(binary);
    ASSERT_FALSE(build_id.empty());
    const std::string bytes = file_text(binary);
    auto put = put_file(server, build_id, bytes);
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
    EXPECT_EQ(json::parse(put->body).at("stored_as"), json::array({"debuginfo", "executable"}));
    const CommandResult found = debuginfod_find(
        server, "executable", build_id, dir.path() + "/cache", headers_file(dir.path(), kToken));
    ASSERT_EQ(found.exit_code, 0) << found.err;
    EXPECT_EQ(file_text(found.out.substr(0, found.out.find('\n'))), bytes);
    // Upper-case hex names the same build-id.
    httplib::Client c = server.client();
    std::string upper = build_id;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    auto served = c.Get("/buildid/" + upper + "/debuginfo", with_token());
    ASSERT_TRUE(served);
    EXPECT_EQ(served->status, 200);
    EXPECT_EQ(served->body, bytes);

    // Who may read: the token, as for /api.
    auto anonymous = c.Get("/buildid/" + build_id + "/executable");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);
    auto wrong = c.Get("/buildid/" + build_id + "/executable", with_token("wrong"));
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    auto unknown = c.Get("/buildid/" + std::string(40, 'a') + "/debuginfo", with_token());
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 404);
    auto source = c.Get("/buildid/" + build_id + "/source/etc/passwd", with_token());
    ASSERT_TRUE(source);
    EXPECT_EQ(source->status, 404);

    // Refused uploads.
    const std::string other_id = build_id_of(fixture_path("fixture_exit"));
    ASSERT_NE(other_id, build_id);
    const std::string no_note = dir.path() + "/no-note";
    ASSERT_EQ(run({"objcopy", "--remove-section", ".note.gnu.build-id", binary, no_note}).exit_code,
              0);
    struct Case {
        std::string what, id, body;
        httplib::Headers headers;
        int status;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"no token", build_id, bytes, {}, 401, "Bearer"},
        {"wrong token", build_id, bytes, with_token("x"), 401, "Bearer"},
        {"not hex", "zz" + build_id.substr(2), bytes, with_token(), 400, "not a build-id"},
        {"odd length", build_id.substr(1), bytes, with_token(), 400, "not a build-id"},
        {"not ELF", build_id, "hello, world\n", with_token(), 415, "not an ELF file"},
        {"empty", build_id, "", with_token(), 400, "empty"},
        {"another build-id", other_id, bytes, with_token(), 400, build_id},
        {"no build-id note", build_id, file_text(no_note), with_token(), 400, "no build-id"},
        {"over the limit", build_id, std::string(size_t{2} << 20, 'x'), with_token(), 413,
         "limit of 1 MiB"},
    };
    for (const Case& bad : cases) {
        auto r = put_file(server, bad.id, bad.body, bad.headers);
        ASSERT_TRUE(r) << bad.what;
        EXPECT_EQ(r->status, bad.status) << bad.what << ": " << r->body;
        EXPECT_NE(r->body.find(bad.message), std::string::npos) << bad.what << ": " << r->body;
    }
    // Nothing of them is stored: only the binary's two names, no leftover upload.
    EXPECT_EQ(entries_of(data.path() + "/symbols"), std::vector<std::string>{".build-id"});
    EXPECT_EQ(entries_of(data.path() + "/symbols/.build-id"),
              std::vector<std::string>{build_id.substr(0, 2)});
    std::vector<std::string> names =
        entries_of(data.path() + "/symbols/.build-id/" + build_id.substr(0, 2));
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{build_id.substr(2), build_id.substr(2) + ".debug"}));
    int status = 0;
    get_json(server, "/api/symbols/" + other_id, &status);
    EXPECT_EQ(status, 404);
    EXPECT_TRUE(server.alive());
}

}  // namespace
