// The analysis child's side of the server without processes: its answer on the pipe (round trip,
// and every malformed form refused), its arguments (round trip), and what the store does with an
// analysis that ended without an answer (counted, failed at the limit, stale jobs untouched).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/analysis_answer.h"
#include "service/analysis_child.h"
#include "service/crash_store.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

ProcessedCrash sample() {
    // Values with newlines, spaces and a NUL: sizes, not separators, delimit them.
    ProcessedCrash crash{
        "minidump",      "null-dereference", "crash_null_write | main",
        "crash handler", "{\"a\":\n1}",      std::string("<html>\n\0x</html>\n", 18)};
    // A module name is a path: a quote, a newline and a tab must survive too.
    crash.modules = {{"a1b2c3", "/opt/app/bin/crash \"handler\"\n\t", "none"},
                     {"00ff", "libc.so.6", "dwarf"}};
    return crash;
}

TEST(ServiceAnalysisAnswer, ResultAndErrorRoundTrip) {
    auto decoded = decode_analysis_answer(encode_analysis_answer({sample(), ""}));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_TRUE(decoded->crash.has_value());
    const ProcessedCrash& c = *decoded->crash;
    const ProcessedCrash want = sample();
    EXPECT_EQ(c.format, want.format);
    EXPECT_EQ(c.crash_class, want.crash_class);
    EXPECT_EQ(c.signature, want.signature);
    EXPECT_EQ(c.program, want.program);
    EXPECT_EQ(c.json, want.json);
    EXPECT_EQ(c.html, want.html);
    EXPECT_EQ(c.html.size(), 18u);
    ASSERT_EQ(c.modules.size(), want.modules.size());
    for (size_t i = 0; i < c.modules.size(); ++i) {
        EXPECT_EQ(c.modules[i].build_id, want.modules[i].build_id);
        EXPECT_EQ(c.modules[i].name, want.modules[i].name);
        EXPECT_EQ(c.modules[i].symbols, want.modules[i].symbols);
    }

    const std::string error = "/d/x is neither a minidump nor an ELF core file";
    auto failed = decode_analysis_answer(encode_analysis_answer({std::nullopt, error}));
    ASSERT_TRUE(failed.ok()) << failed.error().message;
    EXPECT_FALSE(failed->crash.has_value());
    EXPECT_EQ(failed->error, error);
}

TEST(ServiceAnalysisAnswer, IncompleteOrMalformedAnswersAreRefused) {
    const std::string whole = encode_analysis_answer({sample(), ""});
    // Every truncation: a child killed while writing never passes for a result.
    for (size_t n = 0; n < whole.size(); ++n)
        EXPECT_FALSE(decode_analysis_answer(whole.substr(0, n)).ok()) << n;
    EXPECT_FALSE(decode_analysis_answer(whole + "x").ok());
    EXPECT_FALSE(decode_analysis_answer("error 2\nab\nerror 2\nab\nend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("bogus 2\nab\nend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("error 99\nab\nend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("error x\nab\nend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("error 2\nabXend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("end 0\n\n").ok());  // neither a result nor an error
    EXPECT_FALSE(decode_analysis_answer("format 8\nminidump\nend 0\n\n").ok());  // 1 of 7
    EXPECT_FALSE(decode_analysis_answer("modules 5\n[[1]]\nend 0\n\n").ok());
    EXPECT_FALSE(decode_analysis_answer("format 8\nminidump\nerror 1\nx\nend 0\n\n").ok());
    auto error = decode_analysis_answer("error 2\nab\n");
    ASSERT_FALSE(error.ok());
    EXPECT_NE(error.error().message.find("without its end record"), std::string::npos)
        << error.error().message;
}

TEST(ServiceAnalysisChild, ArgumentsRoundTrip) {
    AnalysisChildArgs args;
    args.dump = "/data/dumps/0123 with space";
    args.result_fd = 3;
    args.parent = 4242;
    args.memory_mb = 4096;
    args.cpu_seconds = 120;
    args.symbols.symbol_dirs = {"/sym/a", "/sym/b"};
    args.symbols.debug_root = "/usr/lib/debug";
    args.symbols.cache_dir = "";
    std::vector<std::string> strings = analysis_child_arguments(args);
    strings.insert(strings.begin(), "dumpscope");
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    auto parsed = parse_analysis_child_arguments(static_cast<int>(argv.size()), argv.data());
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->dump, args.dump);
    EXPECT_EQ(parsed->result_fd, 3);
    EXPECT_EQ(parsed->parent, 4242);
    EXPECT_EQ(parsed->memory_mb, 4096u);
    EXPECT_EQ(parsed->cpu_seconds, 120u);
    EXPECT_EQ(parsed->symbols.symbol_dirs, args.symbols.symbol_dirs);
    EXPECT_EQ(parsed->symbols.debug_root, "/usr/lib/debug");
    EXPECT_EQ(parsed->symbols.cache_dir, "");

    std::vector<std::string> bad = {"dumpscope", kAnalysisChildArg, "--dump",
                                    "/x",        "--parent",        "1"};  // no --result-fd
    std::vector<char*> bad_argv;
    for (std::string& s : bad) bad_argv.push_back(s.data());
    EXPECT_FALSE(
        parse_analysis_child_arguments(static_cast<int>(bad_argv.size()), bad_argv.data()).ok());
    bad.push_back("--result-fd");
    bad.push_back("-1");
    bad_argv.clear();
    for (std::string& s : bad) bad_argv.push_back(s.data());
    EXPECT_FALSE(
        parse_analysis_child_arguments(static_cast<int>(bad_argv.size()), bad_argv.data()).ok());
}

std::string id_of(int n) {
    std::string id(32, '0');
    id.back() = static_cast<char>('0' + n);
    return id;
}

TEST(ServiceAnalysisKills, QueuedAgainUntilTheLimitThenFailedAndStaleJobsUntouched) {
    TempDir dir;
    auto opened = CrashStore::open(dir.path + "/crashes.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    CrashStore& store = **opened;
    ASSERT_TRUE(store.insert(NewCrash{id_of(1), 1000, 10, {}}).ok());

    // Two kills: queued again each time, the attempt counter moving on.
    int64_t last_attempt = 0;
    for (int kill = 1; kill <= 2; ++kill) {
        auto job = store.claim_next();
        ASSERT_TRUE(job.ok() && job->has_value());
        EXPECT_GT((*job)->attempt, last_attempt);
        last_attempt = (*job)->attempt;
        auto status = store.end_without_answer(**job, 3, "killed by SIGSEGV, given up");
        ASSERT_TRUE(status.ok()) << status.error().message;
        EXPECT_EQ(*status, std::optional<std::string>("queued"));
        EXPECT_EQ((*store.get(id_of(1)))->status, "queued");
        EXPECT_FALSE((*store.get(id_of(1)))->error.has_value());
    }
    // The server stopping: queued again, not counted.
    auto stopped = store.claim_next();
    ASSERT_TRUE(stopped.ok() && stopped->has_value());
    EXPECT_EQ(*store.end_without_answer(**stopped, 0, "unused"),
              std::optional<std::string>("queued"));
    // The third kill: failed with the error given.
    auto third = store.claim_next();
    ASSERT_TRUE(third.ok() && third->has_value());
    EXPECT_EQ(*store.end_without_answer(**third, 3, "killed by SIGSEGV, given up"),
              std::optional<std::string>("failed"));
    auto record = *store.get(id_of(1));
    EXPECT_EQ(record->status, "failed");
    EXPECT_EQ(record->error, "killed by SIGSEGV, given up");
    EXPECT_TRUE(record->processed_ms.has_value());
    // A stale job (its crash failed, or reprocessed since) changes nothing.
    EXPECT_EQ(*store.end_without_answer(**third, 3, "again"), std::nullopt);
    EXPECT_EQ((*store.get(id_of(1)))->error, "killed by SIGSEGV, given up");

    // Reprocessed: the count started again, so one kill queues it again.
    ASSERT_TRUE(*store.requeue(id_of(1)));
    auto after = store.claim_next();
    ASSERT_TRUE(after.ok() && after->has_value());
    ASSERT_TRUE(store.requeue(id_of(1)).ok());  // reprocessed while it ran: `after` is stale
    EXPECT_EQ(*store.end_without_answer(**after, 3, "x"), std::nullopt);
    auto fresh = store.claim_next();
    ASSERT_TRUE(fresh.ok() && fresh->has_value());
    EXPECT_EQ(*store.end_without_answer(**fresh, 3, "x"), std::optional<std::string>("queued"));
    auto ok = store.claim_next();
    ASSERT_TRUE(ok.ok() && ok->has_value());
    EXPECT_TRUE(*store.finish_processed(**ok, ProcessedCrash{"minidump", "", "f", "p", "{}", ""}));
    EXPECT_EQ((*store.get(id_of(1)))->status, "processed");
}

}  // namespace
}  // namespace dumpscope::service
