// The library (docs/library.md) through its examples, as a program linking it would use it:
// dumpscope_write_dump with each callback type and user streams, of the caller itself (through
// the helper) and of a child (in-process); the crash handler in every crash it must survive.
// Each dump is checked by lldb and by the tests' own minimal decoders, not by dumpscope.
#include <arpa/inet.h>
#include <dumpscope/dumpscope.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "readers/dump_reader.h"
#include "support.h"

using namespace test_support;

namespace {

std::string example(const std::string& name) {
    return std::string(DUMPSCOPE_EXAMPLES_DIR) + "/" + name;
}

// "worker 123" -> {"worker": "123"}: the first word of each line of an example's output.
std::map<std::string, std::string> said(const std::string& out) {
    std::map<std::string, std::string> words;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        const size_t space = line.find(' ');
        if (space != std::string::npos && !words.count(line.substr(0, space)))
            words[line.substr(0, space)] = line.substr(space + 1);
    }
    return words;
}

uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

std::string lldb(const std::string& dump, const std::vector<std::string>& commands) {
    std::vector<std::string> argv = {"lldb-16", "--no-lldbinit", "-c", dump, "-b"};
    for (const std::string& c : commands) {
        argv.push_back("-o");
        argv.push_back(c);
    }
    return run(argv, 120).out;
}

std::vector<std::string> dumps_in(const TempDir& dir) {
    std::vector<std::string> out;
    for (const std::string& f : dir.files())
        if (f.size() > 4 && f.compare(f.size() - 4, 4, ".dmp") == 0)
            out.push_back(dir.path() + "/" + f);
    return out;
}

std::optional<std::vector<uint8_t>> stream_bytes(const std::vector<uint8_t>& file, uint32_t type) {
    for (const DecodedStream& s : minidump_streams(file)) {
        if (s.type != type) continue;
        if (uint64_t{s.rva} + s.size > file.size()) return std::nullopt;
        return std::vector<uint8_t>(file.begin() + s.rva, file.begin() + s.rva + s.size);
    }
    return std::nullopt;
}

// The DumpscopeAnnotations stream decoded here (docs/streams.md), not by the library.
std::map<std::string, std::string> annotations_of(const std::vector<uint8_t>& file) {
    std::map<std::string, std::string> out;
    auto bytes = stream_bytes(file, 0x44530003);
    if (!bytes || bytes->size() < 8) return out;
    auto u32 = [&](size_t at) {
        uint32_t v;
        std::memcpy(&v, bytes->data() + at, 4);
        return v;
    };
    if (u32(0) != 1) return out;
    size_t at = 8;
    for (uint32_t i = 0; i < u32(4) && at + 8 <= bytes->size(); ++i) {
        const uint32_t k = u32(at), v = u32(at + 4);
        at += 8;
        if (at + k + v > bytes->size()) break;
        const char* p = reinterpret_cast<const char*>(bytes->data() + at);
        out[std::string(p, k)] = std::string(p + k, v);
        at += k + v;
    }
    return out;
}

struct WriteDumpRun {
    CommandResult result;
    std::map<std::string, std::string> said;
    std::vector<uint32_t> callbacks;  // CallbackType in call order
    std::string path;
};

WriteDumpRun write_dump(const TempDir& dir, const std::string& target, const std::string& mode) {
    WriteDumpRun r;
    r.path = dir.path() + "/" + target + "-" + mode + ".dmp";
    r.result = run({example("write_dump"), r.path, target, mode}, 120);
    r.said = said(r.result.out);
    std::istringstream in(r.result.out);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("callback ", 0) == 0) r.callbacks.push_back(std::stoul(line.substr(9)));
    return r;
}

class WriteDumpTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (!have_program("lldb-16")) GTEST_SKIP() << "lldb-16 is not installed";
    }
    TempDir dir_;
};

TEST_P(WriteDumpTest, CallsTheCallbacksInTheArticlesOrder) {
    const WriteDumpRun r = write_dump(dir_, GetParam(), "plain");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.out << r.result.err;
    // Without the cancel checks: IncludeThread+, IncludeModule+, Module+, Thread+, Memory.
    std::string order;
    for (uint32_t type : r.callbacks)
        if (type != CancelCallback && (order.empty() || order.back() != char('0' + type)))
            order += char('0' + type);
    EXPECT_EQ(order, "34015");
    EXPECT_EQ(std::count(r.callbacks.begin(), r.callbacks.end(), IncludeThreadCallback), 2)
        << "the main thread and the worker (the library's own callback thread is not dumped)";
    EXPECT_EQ(r.callbacks.front(), CancelCallback);
    EXPECT_EQ(r.callbacks.back(), CancelCallback) << "asked while memory is written";
}

TEST_P(WriteDumpTest, IncludeThreadCallbackDropsAThread) {
    const WriteDumpRun plain = write_dump(dir_, GetParam(), "plain");
    const WriteDumpRun dropped = write_dump(dir_, GetParam(), "drop-thread");
    ASSERT_EQ(plain.result.exit_code, 0) << plain.result.out << plain.result.err;
    ASSERT_EQ(dropped.result.exit_code, 0) << dropped.result.out << dropped.result.err;
    const std::string worker = "tid = " + dropped.said.at("worker") + ",";
    EXPECT_NE(lldb(plain.path, {"thread list"}).find("tid = " + plain.said.at("worker") + ","),
              std::string::npos);
    const std::string threads = lldb(dropped.path, {"thread list"});
    EXPECT_EQ(threads.find(worker), std::string::npos) << threads;
    EXPECT_NE(threads.find("thread #1"), std::string::npos) << threads;
    EXPECT_EQ(threads.find("thread #2"), std::string::npos) << threads;
}

TEST_P(WriteDumpTest, ModuleCallbackDropsAModule) {
    const WriteDumpRun plain = write_dump(dir_, GetParam(), "plain");
    const WriteDumpRun dropped = write_dump(dir_, GetParam(), "drop-module");
    ASSERT_EQ(dropped.result.exit_code, 0) << dropped.result.out << dropped.result.err;
    auto has_libc = [](const std::vector<std::string>& names) {
        return std::any_of(names.begin(), names.end(), [](const std::string& n) {
            return n.find("/libc.so") != std::string::npos;
        });
    };
    EXPECT_TRUE(has_libc(minidump_module_names(read_file(plain.path))));
    EXPECT_FALSE(has_libc(minidump_module_names(read_file(dropped.path))));
    const std::string images = lldb(dropped.path, {"image list"});
    EXPECT_EQ(images.find("libc.so.6"), std::string::npos) << images;
    EXPECT_NE(images.find("write_dump"), std::string::npos) << images;
}

TEST_P(WriteDumpTest, ModuleCallbackKeepsTheDataSegmentsOfOneModule) {
    const WriteDumpRun r = write_dump(dir_, GetParam(), "data-segs");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.out << r.result.err;
    const std::vector<uint8_t> file = read_file(r.path);
    uint64_t marker;
    std::memcpy(&marker, "DATA-SEG", 8);
    EXPECT_EQ(dump_read_u64(file, hex(r.said.at("data"))), marker);
    EXPECT_FALSE(dump_read_u64(file, hex(r.said.at("libcdata")))) << "libc's data was dropped";
    const std::string memory = lldb(r.path, {"memory read -f c -c 19 " + r.said.at("data")});
    EXPECT_NE(memory.find("DATA-SEGMENT-MARKER"), std::string::npos) << memory;
    const WriteDumpRun plain = write_dump(dir_, GetParam(), "plain");
    EXPECT_FALSE(dump_read_u64(read_file(plain.path), hex(plain.said.at("data"))));
}

TEST_P(WriteDumpTest, MemoryCallbackAddsAHeapRange) {
    const WriteDumpRun r = write_dump(dir_, GetParam(), "heap-range");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.out << r.result.err;
    const std::string heap_address = r.said.at("heap").substr(0, r.said.at("heap").find(' '));
    const uint64_t heap = hex(heap_address);
    const std::vector<uint8_t> file = read_file(r.path);
    auto expected = [](uint64_t offset) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>((offset + i) * 7 + 1);
        return v;
    };
    EXPECT_EQ(dump_read_u64(file, heap), expected(0));
    EXPECT_EQ(dump_read_u64(file, heap + 65536 - 8), expected(65536 - 8));
    const std::string memory = lldb(r.path, {"memory read -s1 -fx -c4 " + heap_address});
    EXPECT_NE(memory.find("0x01 0x08 0x0f 0x16"), std::string::npos) << memory;
}

TEST_P(WriteDumpTest, CancelCallbackFailsAndLeavesTheFileEmpty) {
    const WriteDumpRun r = write_dump(dir_, GetParam(), "cancel");
    // Cancelled half-way through the memory: after the Memory callback, among the chunks.
    const auto memory = std::find(r.callbacks.begin(), r.callbacks.end(), MemoryCallback);
    ASSERT_NE(memory, r.callbacks.end());
    EXPECT_GT(std::count(memory, r.callbacks.end(), CancelCallback), 3);
    EXPECT_EQ(r.result.exit_code, 1);
    EXPECT_NE(r.result.out.find("failed: cancelled by the callback (CancelCallback)"),
              std::string::npos)
        << r.result.out;
    EXPECT_TRUE(read_file(r.path).empty());
}

TEST_P(WriteDumpTest, UserStreamsComeBackByteForByte) {
    const WriteDumpRun r = write_dump(dir_, GetParam(), "streams");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.out << r.result.err;  // read back by the example
    const std::vector<uint8_t> file = read_file(r.path);
    EXPECT_EQ(stream_bytes(file, 0x10000001), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', 0}));
    auto big = stream_bytes(file, 0x10000002);
    ASSERT_TRUE(big);
    ASSERT_EQ(big->size(), 100000u);
    for (size_t i = 0; i < big->size(); ++i) ASSERT_EQ((*big)[i], i % 251) << "at " << i;
}

INSTANTIATE_TEST_SUITE_P(SelfAndChild, WriteDumpTest, ::testing::Values("self", "child"));

struct CrashCase {
    std::string mode;
    int signal;
    std::string function;  // in the crashing thread's stack
};

class CrashHandlerTest : public ::testing::TestWithParam<CrashCase> {
protected:
    void SetUp() override {
        if (!have_program("lldb-16")) GTEST_SKIP() << "lldb-16 is not installed";
    }
    TempDir dir_;
};

// Dies of its signal and leaves one dump whose exception is the crash, in the right thread,
// with the crash's frames (lldb), the annotations and the user stream.
TEST_P(CrashHandlerTest, LeavesOneDumpAndDiesOfItsSignal) {
    const CrashCase& c = GetParam();
    const CommandResult r = run({example("crash_handler"), dir_.path(), c.mode}, 300);
    EXPECT_EQ(r.signal, c.signal) << r.out << r.err;
    const std::vector<std::string> dumps = dumps_in(dir_);
    ASSERT_EQ(dumps.size(), 1u) << r.out << r.err;
    const std::string bt = lldb(dumps[0], {"bt"});
    EXPECT_NE(
        bt.find("stop reason = signal " + std::string(c.signal == SIGSEGV ? "SIGSEGV" : "SIGABRT")),
        std::string::npos)
        << bt;
    EXPECT_NE(bt.find(c.function), std::string::npos) << bt;

    auto snapshot = dumpscope::read_dump_file(dumps[0]);
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_TRUE(snapshot->exception);
    EXPECT_EQ(snapshot->exception->signal.signo, c.signal);
    const int32_t pid = std::stoi(said(r.out).at("ready"));
    if (c.mode == "two") {
        EXPECT_NE(snapshot->exception->tid, pid) << "a worker thread crashed, not main";
    } else {
        EXPECT_EQ(snapshot->exception->tid, pid);
    }
    if (c.mode == "threads") {
        EXPECT_GE(snapshot->threads.size(), 301u);
    }

    const std::vector<uint8_t> file = read_file(dumps[0]);
    const auto annotations = annotations_of(file);
    EXPECT_EQ(annotations.count("version") ? annotations.at("version") : "", "1.2.3");
    EXPECT_EQ(annotations.count("mode") ? annotations.at("mode") : "", c.mode);
    const nlohmann::json info = info_json(dumps[0]);  // dumpscope info shows them too
    EXPECT_EQ(info.value("annotations", nlohmann::json::object()).value("version", ""), "1.2.3");
    const char note[] = "example user stream";
    EXPECT_EQ(stream_bytes(file, 0x10000001), std::vector<uint8_t>(note, note + sizeof note));
}

INSTANTIATE_TEST_SUITE_P(Crashes, CrashHandlerTest,
                         ::testing::Values(CrashCase{"null", SIGSEGV, "crash_null_write"},
                                           CrashCase{"heap", SIGABRT, "crash_heap_corruption"},
                                           CrashCase{"overflow", SIGSEGV, "crash_stack_overflow"},
                                           CrashCase{"two", SIGSEGV, "fault_together"},
                                           CrashCase{"threads", SIGSEGV, "crash_null_write"},
                                           CrashCase{"abort", SIGABRT, "abort"}),
                         [](const ::testing::TestParamInfo<CrashCase>& param) {
                             return param.param.mode;
                         });

// chain_previous_handlers: after the dump, the handler the program had installed runs, with the
// fault's own siginfo (the fault happens again; no tgkill that would say SI_TKILL).
TEST(CrashHandler, ChainsToThePreviousHandlerWithTheFaultsSiginfo) {
    TempDir dir;
    const CommandResult r = run({example("crash_handler"), dir.path(), "chain"}, 120);
    EXPECT_EQ(r.signal, 0) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 42) << r.out << r.err;
    EXPECT_NE(r.out.find("previous handler: signal 11 code 1 address (nil)"), std::string::npos)
        << r.out;
    const std::vector<std::string> dumps = dumps_in(dir);
    ASSERT_EQ(dumps.size(), 1u);
    if (have_program("lldb-16")) {
        EXPECT_NE(lldb(dumps[0], {"bt"}).find("crash_null_write"), std::string::npos);
    }
}

TEST(CrashHandler, WriteDumpNowWritesAndKeepsRunning) {
    TempDir dir;
    const CommandResult r = run({example("crash_handler"), dir.path(), "now"}, 120);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::vector<std::string> dumps = dumps_in(dir);
    ASSERT_EQ(dumps.size(), 2u) << "two requests in the same second get two names";
    for (const std::string& dump : dumps) {
        EXPECT_NE(r.out.find("dump " + dump), std::string::npos) << r.out;
        auto snapshot = dumpscope::read_dump_file(dump);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        EXPECT_FALSE(snapshot->exception);
        EXPECT_EQ(annotations_of(read_file(dump)).count("version"), 1u);
    }
}

// A process under a helper that is gone: the handler starts a new one from the signal handler.
TEST(CrashHandler, StartsANewHelperWhenTheFirstDied) {
    TempDir dir;
    int in_pipe[2], out_pipe[2];
    ASSERT_EQ(::pipe(in_pipe), 0);
    ASSERT_EQ(::pipe(out_pipe), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        const std::string program = example("crash_handler");
        ::execl(program.c_str(), program.c_str(), dir.path().c_str(), "wait", nullptr);
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    char line[64] = {};
    ASSERT_GT(::read(out_pipe[0], line, sizeof line - 1), 0);  // "ready PID"
    std::vector<pid_t> helpers;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((helpers = children_of(child)).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(helpers.size(), 1u);
    ASSERT_EQ(::kill(helpers[0], SIGKILL), 0);
    // Dead once it is a zombie (its parent, the example, does not reap it).
    auto state_of = [](pid_t pid) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text;
        std::getline(stat, text);
        const size_t paren = text.rfind(')');
        return paren == std::string::npos || paren + 2 >= text.size() ? 'X' : text[paren + 2];
    };
    while (state_of(helpers[0]) != 'Z' && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(state_of(helpers[0]), 'Z');
    ASSERT_EQ(::write(in_pipe[1], "go\n", 3), 3);
    ::close(in_pipe[1]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::close(out_pipe[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
    const std::vector<std::string> dumps = dumps_in(dir);
    ASSERT_EQ(dumps.size(), 1u);
    if (have_program("lldb-16")) {
        EXPECT_NE(lldb(dumps[0], {"bt"}).find("crash_null_write"), std::string::npos);
    }
}

// PID 1 of a PID namespace ignores the signal it raises at itself: the handler exits with
// 128 + the signal instead (unshare passes that on; had it died of the signal, unshare would
// re-raise it).
TEST(CrashHandler, AsPid1ExitsWith128PlusTheSignal) {
    if (run({"unshare", "--pid", "--fork", "--mount-proc", "true"}, 30).exit_code != 0)
        GTEST_SKIP() << "cannot create a PID namespace here";
    TempDir dir;
    const CommandResult r = run({"unshare", "--pid", "--fork", "--mount-proc",
                                 example("crash_handler"), dir.path(), "null"},
                                120);
    EXPECT_EQ(r.signal, 0) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.out << r.err;
    EXPECT_EQ(said(r.out).at("ready"), "1");
    const std::vector<std::string> dumps = dumps_in(dir);
    ASSERT_EQ(dumps.size(), 1u);
    if (have_program("lldb-16")) {
        EXPECT_NE(lldb(dumps[0], {"bt"}).find("crash_null_write"), std::string::npos);
    }
}

// The crash handler's upload: the dump service's protocol (Breakpad's and Crashpad's) to a
// server here, which takes one request and answers like Socorro.
TEST(CrashHandler, UploadsTheDumpWithItsAnnotations) {
    OneRequestServer server;
    std::string request;
    std::thread accept([&] { request = server.wait_for_request(120); });
    TempDir dir;
    const CommandResult r = run({"env", "DUMPSCOPE_UPLOAD_URL=" + server.url("/submit"),
                                 example("crash_handler"), dir.path(), "null"},
                                120);
    accept.join();
    EXPECT_EQ(r.signal, SIGSEGV) << r.out << r.err;
    const std::vector<std::string> dumps = dumps_in(dir);
    ASSERT_EQ(dumps.size(), 1u);
    EXPECT_EQ(request.rfind("POST /submit HTTP/1.1\r\n", 0), 0u) << request.substr(0, 200);
    EXPECT_NE(request.find("name=\"version\"\r\n\r\n1.2.3\r\n"), std::string::npos);
    EXPECT_NE(request.find("name=\"mode\"\r\n\r\nnull\r\n"), std::string::npos);
    const std::vector<uint8_t> file = read_file(dumps[0]);
    EXPECT_EQ(uploaded_dump(request), std::string(file.begin(), file.end()))
        << "the uploaded dump is the file on disk, byte for byte";
}

}  // namespace
