// What the service tests share: a real `dumpscope server` on a free port (ServerProcess),
// Breakpad-style uploads, the JSON API with the test token, and waiting for a crash to be done.
#pragma once

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
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.h"

namespace service_support {

using namespace test_support;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

inline constexpr const char* kToken = "test-token-5b0c";
inline constexpr int kGenerousSeconds = 180;

inline std::string example(const std::string& name) {
    return std::string(DUMPSCOPE_EXAMPLES_DIR) + "/" + name;
}

// Starts `argv` with its standard output on a pipe and reads that output until `enough(text)`
// holds, the output ends or 60 s pass; then closes the pipe (later output goes nowhere rather
// than blocking the process). No sleeps: the process says when it is ready. The caller checks
// the text and kills the process (kill_and_reap) when it is not what it waited for.
struct StartedProcess {
    pid_t pid = -1;
    std::string output;
};

inline StartedProcess start_reading_until(const std::vector<std::string>& argv,
                                          const std::function<bool(const std::string&)>& enough) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    StartedProcess started;
    started.pid = ::fork();
    if (started.pid == 0) {
        ::dup2(out[1], 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!enough(started.output) && Clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        char buffer[256];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n <= 0) break;
        started.output.append(buffer, static_cast<size_t>(n));
    }
    ::close(out[0]);
    return started;
}

// SIGKILL and waitpid, once: `pid` is -1 after.
inline void kill_and_reap(pid_t& pid) {
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
}

// `dumpscope server --listen 127.0.0.1:0 --data DIR --token T`, started and waited for: its first
// line of output names the address it listens on. Killed (SIGKILL: no clean shutdown to rely on)
// and reaped on destruction.
class ServerProcess {
public:
    // `wrapper`: a command that runs the server as its arguments (searched in PATH).
    explicit ServerProcess(const std::string& data, const std::vector<std::string>& extra = {},
                           const std::vector<std::string>& wrapper = {}) {
        std::vector<std::string> argv = wrapper;
        for (const std::string& a :
             {dumpscope_binary(), std::string("server"), std::string("--listen"),
              std::string("127.0.0.1:0"), std::string("--data"), data, std::string("--token"),
              std::string(kToken)})
            argv.push_back(a);
        argv.insert(argv.end(), extra.begin(), extra.end());
        StartedProcess started = start_reading_until(
            argv, [](const std::string& text) { return text.find('\n') != std::string::npos; });
        pid_ = started.pid;
        const std::string& line = started.output;
        const std::string prefix = "listening on http://127.0.0.1:";
        if (line.rfind(prefix, 0) != 0 || line.find('\n') == std::string::npos) {
            kill_and_reap();
            throw std::runtime_error("dumpscope server did not start: '" + line + "'");
        }
        port_ = std::stoi(line.substr(prefix.size()));
    }
    ~ServerProcess() { kill_and_reap(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    bool alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(std::chrono::seconds(60));
        c.set_write_timeout(std::chrono::seconds(60));
        return c;
    }
    // SIGTERM, then waits up to `seconds` for the exit; the wait status, or -1 if it did not exit.
    int terminate(int seconds) {
        ::kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(seconds);
        while (Clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return status;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
    void kill_and_reap() { service_support::kill_and_reap(pid_); }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

inline httplib::Headers with_token(const std::string& token = kToken) {
    return {{"Authorization", "Bearer " + token}};
}

inline std::string file_text(const std::string& path) {
    const std::vector<uint8_t> bytes = read_file(path);
    return std::string(bytes.begin(), bytes.end());
}

inline constexpr const char* kBoundary = "service-test-9d1f3c";

// A Breakpad-style form: the annotations, then the dump in upload_file_minidump.
inline std::string form_body(const std::vector<std::pair<std::string, std::string>>& annotations,
                             const std::optional<std::string>& dump) {
    std::string body;
    for (const auto& [key, value] : annotations)
        body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" +
                key + "\"\r\n\r\n" + value + "\r\n";
    if (dump)
        body += std::string("--") + kBoundary +
                "\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; "
                "filename=\"x.dmp\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                *dump + "\r\n";
    return body + "--" + kBoundary + "--\r\n";
}

inline std::string gzip(const std::string& data) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

struct Upload {
    int status = 0;
    std::string body;
};

inline Upload submit(const ServerProcess& server, const std::string& body, bool gzipped = false) {
    httplib::Client c = server.client();
    httplib::Headers headers;
    if (gzipped) headers.emplace("Content-Encoding", "gzip");
    auto r = c.Post("/submit", headers, gzipped ? gzip(body) : body,
                    std::string("multipart/form-data; boundary=") + kBoundary);
    if (!r) return {};
    return {r->status, r->body};
}

// "CrashID=<id>\n" -> id ("" when the answer is not that).
inline std::string crash_id_of(const Upload& upload) {
    const std::string prefix = "CrashID=";
    if (upload.status != 200 || upload.body.rfind(prefix, 0) != 0 || upload.body.back() != '\n')
        return "";
    return upload.body.substr(prefix.size(), upload.body.size() - prefix.size() - 1);
}

inline json get_json(const ServerProcess& server, const std::string& path, int* status = nullptr) {
    httplib::Client c = server.client();
    auto r = c.Get(path, with_token());
    if (!r) return nullptr;
    if (status != nullptr) *status = r->status;
    return json::parse(r->body, nullptr, false);
}

// Polls the crash until it is processed or failed.
inline json wait_until_done(const ServerProcess& server, const std::string& id) {
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    json crash;
    while (Clock::now() < deadline) {
        crash = get_json(server, "/api/crashes/" + id);
        if (crash.is_object() &&
            (crash.value("status", "") == "processed" || crash.value("status", "") == "failed"))
            return crash;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "crash " << id << " not processed in time: " << crash.dump();
    return crash;
}

inline std::vector<std::string> entries_of(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return names;
    while (dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
            names.push_back(e->d_name);
    ::closedir(d);
    return names;
}

// A live dump of a fixture (no crash in it), for the upload paths.
inline std::string healthy_dump(const TempDir& dir) {
    Fixture target("fixture_healthy");
    return collect_into(dir.path(), target.pid(), "mini", "minidump");
}

}  // namespace service_support
