// The server survives its analyses (docs/service.md, Processing): each runs in a child process of
// the server. Killing that child, a dump that makes it crash, one that never ends: the server
// stays up, the crash is queued again and after a few attempts fails with why; stopping the
// server ends its children. The children are made observable by the test-only hooks of
// src/service/analysis_child.cpp (DUMPSCOPE_TEST_HOOKS builds): wait for a file, raise SIGSEGV
// or hang for a dump starting with a marker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service_support.h"
#include "support.h"

namespace {

using namespace test_support;
using namespace service_support;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

#if DUMPSCOPE_TEST_HOOKS

constexpr const char* kChildArg = "--internal-analysis-child";

struct Child {
    pid_t pid = 0;
    std::string cmdline;  // arguments joined by spaces
};

// The server's analysis children, from /proc/SERVER/task/*/children (every thread's children).
std::vector<Child> analysis_children(pid_t server) {
    std::vector<Child> out;
    const std::string task_dir = "/proc/" + std::to_string(server) + "/task";
    for (const std::string& tid : entries_of(task_dir)) {
        std::ifstream children(task_dir + "/" + tid + "/children");
        pid_t pid = 0;
        while (children >> pid) {
            std::ifstream cmdline_file("/proc/" + std::to_string(pid) + "/cmdline");
            std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)),
                                std::istreambuf_iterator<char>());
            for (char& c : cmdline)
                if (c == '\0') c = ' ';
            if (cmdline.find(kChildArg) != std::string::npos) out.push_back({pid, cmdline});
        }
    }
    return out;
}

// Polls `done` until it holds or the generous deadline passes.
bool wait_for(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    while (Clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// The analysis child of crash `id`, once the server has one.
Child wait_for_child_of(const ServerProcess& server, const std::string& id, pid_t other_than = 0) {
    Child found;
    wait_for([&] {
        for (const Child& c : analysis_children(server.pid()))
            if (c.cmdline.find("/dumps/" + id) != std::string::npos && c.pid != other_than) {
                found = c;
                return true;
            }
        return false;
    });
    return found;
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// The analysis is SIGKILLed while it runs: the server stays up, a new child takes the crash (it
// went back to the queue), and that one processes it.
TEST(ServiceIsolation, KilledAnalysisIsQueuedAgainAndProcessed) {
    TempDir data, work;
    const std::string gate = work.path() + "/go";
    ServerProcess server(data.path(), {}, {"env", "DUMPSCOPE_TEST_ANALYSIS_WAIT=" + gate});
    const std::string id =
        crash_id_of(submit(server, form_body({}, file_text(healthy_dump(work)))));
    ASSERT_FALSE(id.empty());

    const Child first = wait_for_child_of(server, id);
    ASSERT_GT(first.pid, 0) << "no analysis child for " << id;
    EXPECT_EQ(::getpgid(first.pid), first.pid) << "the child leads a process group of its own";
    EXPECT_EQ(get_json(server, "/api/crashes/" + id).value("status", ""), "processing");
    ASSERT_EQ(::kill(first.pid, SIGKILL), 0);

    const Child second = wait_for_child_of(server, id, first.pid);
    ASSERT_GT(second.pid, 0) << "the killed analysis was not started again";
    EXPECT_TRUE(server.alive());
    EXPECT_FALSE(process_exists(first.pid)) << "the killed child was reaped";

    std::ofstream(gate).put('\n');
    const json crash = wait_until_done(server, id);
    EXPECT_EQ(crash.value("status", ""), "processed") << crash.dump(1);
    EXPECT_TRUE(crash.at("error").is_null()) << crash.dump(1);
    EXPECT_EQ(crash.at("program"), "fixture_healthy");
    EXPECT_TRUE(server.alive());
    EXPECT_TRUE(wait_for([&] { return analysis_children(server.pid()).empty(); }));
}

// A dump that crashes the analysis every time fails after --analysis-attempts kills, with the
// signal in its error; a good dump uploaded after it is processed meanwhile.
TEST(ServiceIsolation, DumpCrashingTheAnalysisFailsAfterItsAttempts) {
    TempDir data, work;
    ServerProcess server(data.path(), {"--workers", "2"},
                         {"env", "DUMPSCOPE_TEST_ANALYSIS_SEGV=dumpscope-test-segv"});
    const std::string poison =
        crash_id_of(submit(server, form_body({}, std::string("dumpscope-test-segv\n"))));
    ASSERT_FALSE(poison.empty());
    const std::string good =
        crash_id_of(submit(server, form_body({}, file_text(healthy_dump(work)))));
    ASSERT_FALSE(good.empty());

    const json processed = wait_until_done(server, good);
    EXPECT_EQ(processed.value("status", ""), "processed") << processed.dump(1);
    const json failed = wait_until_done(server, poison);
    ASSERT_EQ(failed.value("status", ""), "failed") << failed.dump(1);
    const std::string error = failed.value("error", "");
    // Not the reader's error: the analysis never got to read it.
    EXPECT_EQ(error.rfind("analysis killed by SIGSEGV", 0), 0u) << error;
    EXPECT_NE(error.find("3 attempts"), std::string::npos) << error;
    EXPECT_TRUE(server.alive());

    // Reprocessing gives it its attempts again, and it fails the same way.
    httplib::Client c = server.client();
    auto r = c.Post("/api/crashes/" + poison + "/reprocess", with_token(), "", "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    const json again = wait_until_done(server, poison);
    EXPECT_EQ(again.value("error", ""), error);
    EXPECT_TRUE(server.alive());
}

// An analysis that never ends is killed at --analysis-timeout, with its process group; after
// --analysis-attempts of them the crash fails, and no child is left.
TEST(ServiceIsolation, HangingAnalysisTimesOut) {
    TempDir data;
    ServerProcess server(data.path(), {"--analysis-timeout", "1", "--analysis-attempts", "2"},
                         {"env", "DUMPSCOPE_TEST_ANALYSIS_HANG=dumpscope-test-hang"});
    const auto start = Clock::now();
    const std::string id =
        crash_id_of(submit(server, form_body({}, std::string("dumpscope-test-hang\n"))));
    ASSERT_FALSE(id.empty());
    const json failed = wait_until_done(server, id);
    const auto took = Clock::now() - start;
    ASSERT_EQ(failed.value("status", ""), "failed") << failed.dump(1);
    const std::string error = failed.value("error", "");
    EXPECT_EQ(error.rfind("analysis timed out after 1 s", 0), 0u) << error;
    EXPECT_NE(error.find("2 attempts"), std::string::npos) << error;
    EXPECT_GE(took, std::chrono::seconds(2)) << "two attempts of a second each";
    EXPECT_TRUE(server.alive());
    EXPECT_TRUE(analysis_children(server.pid()).empty());
}

// SIGTERM stops the server at once even with analyses running: they are killed (none is left
// behind), and their crashes, queued again, are processed by the next server.
TEST(ServiceIsolation, StoppingTheServerEndsItsAnalyses) {
    TempDir data, work;
    const std::string gate = work.path() + "/go";
    std::vector<std::string> ids;
    std::vector<pid_t> children;
    {
        ServerProcess server(data.path(), {"--workers", "2"},
                             {"env", "DUMPSCOPE_TEST_ANALYSIS_WAIT=" + gate});
        for (int i = 0; i < 2; ++i) {
            ids.push_back(crash_id_of(
                submit(server, form_body({}, "not a dump " + std::to_string(i) + "\n"))));
            ASSERT_FALSE(ids.back().empty());
        }
        for (const std::string& id : ids) {
            const Child child = wait_for_child_of(server, id);
            ASSERT_GT(child.pid, 0) << id;
            children.push_back(child.pid);
        }
        const int status = server.terminate(kGenerousSeconds);
        ASSERT_TRUE(WIFEXITED(status)) << status;
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
    for (pid_t child : children) EXPECT_FALSE(process_exists(child)) << child << " was left";

    std::ofstream(gate).put('\n');
    ServerProcess server(data.path(), {}, {"env", "DUMPSCOPE_TEST_ANALYSIS_WAIT=" + gate});
    for (const std::string& id : ids) {
        const json crash = wait_until_done(server, id);
        EXPECT_EQ(crash.value("status", ""), "failed") << crash.dump(1);
        EXPECT_NE(crash.value("error", "").find("neither a minidump nor an ELF core"),
                  std::string::npos)
            << crash.dump(1);
    }
}

#endif  // DUMPSCOPE_TEST_HOOKS

}  // namespace
