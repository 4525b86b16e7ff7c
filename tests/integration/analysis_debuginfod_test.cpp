// Symbols from debuginfod: a program whose debug info was split off is dumped; its frames have no
// file:line until DEBUGINFOD_URLS names a debuginfod server (elfutils' own, started here on
// localhost over a directory holding the debug file) and dumpscope fetches the file by build-id
// through libdebuginfod. Nothing leaves the machine.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "analysis_support.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

// `debuginfod -F DIR` on a local port, killed and reaped on destruction.
class LocalDebuginfod {
public:
    LocalDebuginfod(const std::string& scan_dir, const std::string& database, int port) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::string port_arg = std::to_string(port);
            ::execlp("debuginfod", "debuginfod", "-F", scan_dir.c_str(), "-d", database.c_str(),
                     "-p", port_arg.c_str(), "-t", "1", static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~LocalDebuginfod() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    LocalDebuginfod(const LocalDebuginfod&) = delete;
    LocalDebuginfod& operator=(const LocalDebuginfod&) = delete;

private:
    pid_t pid_ = -1;
};

// The HTTP status of GET `path` on 127.0.0.1:port, 0 when nothing answers.
int http_status(int port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const std::string request =
            "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
            char reply[64] = {};
            const ssize_t n = ::read(fd, reply, sizeof reply - 1);
            if (n > 12) status = std::atoi(reply + 9);  // "HTTP/1.1 200 OK"
        }
    }
    ::close(fd);
    return status;
}

// A TCP port of 127.0.0.1 that nothing listens on now (the kernel's choice).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
        port = ntohs(address.sin_port);
    }
    if (fd >= 0) ::close(fd);
    return port;
}

std::string build_id_of(const std::string& path) {
    const CommandResult r = run({"eu-readelf", "-n", path});
    const size_t at = r.out.find("Build ID: ");
    if (at == std::string::npos) return "";
    std::istringstream in(r.out.substr(at + 10));
    std::string id;
    in >> id;
    return id;
}

// "file:line" of every frame of module `module` on any thread ("" where there is none), but
// _start's (crt1.o has no line table).
std::vector<std::string> source_lines(const std::string& dump, const std::string& module) {
    const CommandResult r = run({dumpscope_binary(), "stack", "--all", "--json", dump}, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines;
    if (r.exit_code != 0) return lines;
    const nlohmann::json stacks = nlohmann::json::parse(r.out);
    for (const auto& thread : stacks.at("threads")) {
        for (const auto& frame : thread.at("frames")) {
            if (!frame.at("module").is_string() ||
                frame.at("module").get<std::string>() != module ||
                frame.at("function") == "_start") {
                continue;
            }
            lines.push_back(frame.at("file").is_null()
                                ? std::string()
                                : frame.at("file").get<std::string>() + ":" +
                                      std::to_string(frame.at("line").get<int>()));
        }
    }
    return lines;
}

TEST(Debuginfod, DebugInfoOfAStrippedProgramIsFetchedByBuildIdFromDEBUGINFOD_URLS) {
    if (!have_program("debuginfod")) GTEST_SKIP() << "debuginfod is not installed (make deps)";
    TempDir dir;
    const std::string program = dir.path() + "/app";
    const std::string served = dir.path() + "/served";
    std::filesystem::create_directory(served);
    std::filesystem::copy_file(fixture_path("fixture_waiters"), program);
    ASSERT_EQ(run({"objcopy", "--only-keep-debug", program, served + "/app.debug"}).exit_code, 0);
    ASSERT_EQ(run({"objcopy", "--strip-debug", program}).exit_code, 0);
    const std::string id = build_id_of(program);
    ASSERT_EQ(id, build_id_of(served + "/app.debug"));
    ASSERT_FALSE(id.empty());

    const std::string dump = dir.path() + "/app.dmp";
    {
        Program app({program});
        const CommandResult r = run({dumpscope_binary(), "collect", "--quiet", "--type", "mini",
                                     std::to_string(app.pid()), dump});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const std::vector<std::string> without = source_lines(dump, "app");
    ASSERT_FALSE(without.empty()) << "no frame in the program itself: "
                                  << run({dumpscope_binary(), "stack", "--all", dump}).out;
    for (const std::string& line : without) EXPECT_EQ(line, "") << "debug info without a source";

    const int port = free_port();
    ASSERT_NE(port, 0);
    LocalDebuginfod server(served, dir.path() + "/debuginfod.sqlite", port);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (http_status(port, "/buildid/" + id + "/debuginfo") != 200 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(http_status(port, "/buildid/" + id + "/debuginfo"), 200)
        << "the local debuginfod never served the debug file";

    ::setenv("DEBUGINFOD_URLS", ("http://127.0.0.1:" + std::to_string(port)).c_str(), 1);
    ::setenv("DEBUGINFOD_CACHE_PATH", (dir.path() + "/client-cache").c_str(), 1);
    const std::vector<std::string> with = source_lines(dump, "app");
    ::unsetenv("DEBUGINFOD_URLS");
    ::unsetenv("DEBUGINFOD_CACHE_PATH");
    ASSERT_EQ(with.size(), without.size());
    for (const std::string& line : with) {
        EXPECT_NE(line.find("fixture_waiters.c:"), std::string::npos) << line;
    }
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/client-cache/" + id + "/debuginfo"))
        << "not fetched through libdebuginfod's cache";
}

}  // namespace
