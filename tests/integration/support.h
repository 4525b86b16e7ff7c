// Helpers for integration tests: run commands, start fixtures (killed and reaped on scope
// exit), temporary directories, and independent minimal decoders of our output files (so a
// test does not trust dumpscope's own reader to check dumpscope's writer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

struct CommandResult {
    int exit_code = -1;  // 128+N when killed by signal N
    int signal = 0;      // N when killed by signal N (0 when it exited)
    std::string out;
    std::string err;
};

// Runs argv (no shell) with a timeout in seconds; the child is killed at the timeout.
CommandResult run(const std::vector<std::string>& argv, int timeout_seconds = 120);
std::string dumpscope_binary();
std::string fixture_path(const std::string& name);
bool have_program(const std::string& name);
// `dumpscope collect --quiet --type TYPE --format FORMAT PID DIR/TYPE.{dmp,core}`, expected to
// succeed; returns the dump's path. With `clone`, `--clone=required` (DIR/TYPE-clone.*).
std::string collect_into(const std::string& dir, pid_t pid, const std::string& type,
                         const std::string& format, bool clone = false);

// A started fixture; the constructor waits for its JSON ready line. Killed on destruction.
class Fixture {
public:
    Fixture(const std::string& name, const std::vector<std::string>& args = {},
            const std::string& exec_name = "");
    ~Fixture();
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;

    pid_t pid() const { return pid_; }
    const nlohmann::json& info() const { return info_; }
    uint64_t address(const std::string& key) const { return info_.at(key).get<uint64_t>(); }
    std::string path() const { return path_; }

private:
    pid_t pid_ = -1;
    std::string path_;
    nlohmann::json info_;
};

// Any program (argv[0] through PATH), started like a Fixture: the constructor waits for its first
// line of stdout (JSON). Killed and reaped on destruction.
class Program {
public:
    explicit Program(const std::vector<std::string>& argv);
    ~Program();
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;

    pid_t pid() const { return pid_; }
    const nlohmann::json& info() const { return info_; }

private:
    pid_t pid_ = -1;
    nlohmann::json info_;
};

// Every thread's state letter ('S', 'R', 't', ...) from /proc/PID/task/*/stat.
std::vector<char> thread_states(pid_t pid);
// True if the process exists and no thread is in a stopped or traced state.
bool running_and_not_stopped(pid_t pid);
// Waits up to `seconds` until no thread is stopped (a detach takes effect asynchronously).
bool eventually_running(pid_t pid, int seconds = 30);
// Processes whose parent is `pid` (a clone dumpscope made of it, say): /proc/PID/task/*/children.
std::vector<pid_t> children_of(pid_t pid);
// Waits up to `seconds` until `pid` has no children.
bool eventually_childless(pid_t pid, int seconds = 30);

// An HTTP server on 127.0.0.1 (a free port) that takes one request, keeps it whole (headers
// and a Content-Length body) and answers 200 with `answer` as the body, like a crash collector.
class OneRequestServer {
public:
    explicit OneRequestServer(std::string answer = "CrashID=bp-test\n");
    ~OneRequestServer();
    OneRequestServer(const OneRequestServer&) = delete;
    OneRequestServer& operator=(const OneRequestServer&) = delete;

    std::string url(const std::string& path) const;
    // Waits up to `seconds` for the request; "" if none came.
    std::string wait_for_request(int seconds);

private:
    int listener_ = -1;
    uint16_t port_ = 0;
    std::string answer_;
};

// The bytes of the `upload_file_minidump` part of a multipart/form-data request (Breakpad's
// upload protocol), found by the boundary its Content-Type names; "" if there is none.
std::string uploaded_dump(const std::string& request);

class TempDir {
public:
    // base: /tmp by default; /dev/shm for tests that write gigabytes (RAM, not the shared disk).
    explicit TempDir(const std::string& base = "/tmp");
    ~TempDir();
    const std::string& path() const { return path_; }
    std::vector<std::string> files() const;  // names, including dot files

private:
    std::string path_;
};

std::vector<uint8_t> read_file(const std::string& path);
nlohmann::json info_json(const std::string& dump);

// Minimal independent decoders.
struct DecodedStream {
    uint32_t type;
    uint32_t size;
    uint32_t rva;
};
std::vector<DecodedStream> minidump_streams(const std::vector<uint8_t>& file);
// Reads 8 bytes at addr from MemoryList/Memory64List; nullopt if no range holds them.
std::optional<uint64_t> minidump_read_u64(const std::vector<uint8_t>& file, uint64_t addr);
std::optional<uint64_t> core_read_u64(const std::vector<uint8_t>& file, uint64_t addr);
std::optional<uint64_t> dump_read_u64(const std::vector<uint8_t>& file, uint64_t addr);
// UTF-16LE module names from the ModuleList.
std::vector<std::string> minidump_module_names(const std::vector<uint8_t>& file);

}  // namespace test_support
