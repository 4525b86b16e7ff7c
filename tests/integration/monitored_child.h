// Helpers for tests that drive a process over time (header-only, used by the trigger and crash
// handler tests): a fixture fed commands on stdin whose stdout lines are read back and whose
// exit status is collected, and a command running in the background with its output in files.
// Both are killed and reaped on destruction.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.h"

namespace test_support {

using TestClock = std::chrono::steady_clock;

// Runs a fixture (a name in the fixture directory, or an absolute path) as a child with
// stdin/stdout pipes; the constructor waits for its JSON ready line. pgid: -1 keeps the test's
// process group, 0 starts a new one, N joins group N.
class DrivenFixture {
public:
    DrivenFixture(const std::string& name, const std::vector<std::string>& args = {},
                  pid_t pgid = -1) {
        int in_pipe[2], out_pipe[2];
        if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        const std::string path = name[0] == '/' ? name : fixture_path(name);
        pid_ = ::fork();
        if (pid_ == 0) {
            if (pgid >= 0) ::setpgid(0, pgid);
            ::dup2(in_pipe[0], 0);
            ::dup2(out_pipe[1], 1);
            std::vector<std::string> all = {path};
            all.insert(all.end(), args.begin(), args.end());
            std::vector<char*> argv;
            for (auto& a : all) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(path.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(in_pipe[0]);
        ::close(out_pipe[1]);
        in_ = in_pipe[1];
        out_ = out_pipe[0];
        auto ready = read_line(60);
        if (!ready) {
            kill_and_reap();
            throw std::runtime_error("fixture " + name + " did not start");
        }
        info_ = nlohmann::json::parse(*ready);
    }
    ~DrivenFixture() {
        kill_and_reap();
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
    }
    DrivenFixture(const DrivenFixture&) = delete;
    DrivenFixture& operator=(const DrivenFixture&) = delete;

    pid_t pid() const { return pid_; }
    const nlohmann::json& info() const { return info_; }

    void send(const std::string& line) {
        const std::string text = line + "\n";
        if (::write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            throw std::runtime_error("cannot write to the fixture");
    }
    // The next stdout line, or nullopt after `seconds` or at end of output.
    std::optional<std::string> read_line(int seconds) {
        const auto deadline = TestClock::now() + std::chrono::seconds(seconds);
        for (;;) {
            const size_t newline = buffer_.find('\n');
            if (newline != std::string::npos) {
                std::string line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return line;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TestClock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }
    // The next line parsed as JSON (throws if none within `seconds`).
    nlohmann::json read_json(int seconds = 30) {
        auto line = read_line(seconds);
        if (!line) throw std::runtime_error("the fixture printed nothing");
        return nlohmann::json::parse(*line);
    }
    // The wait status once it has exited, or nullopt if it still runs after `seconds`.
    std::optional<int> wait_exit(int seconds) {
        const auto deadline = TestClock::now() + std::chrono::seconds(seconds);
        while (!status_) {
            int status = 0;
            const pid_t got = ::waitpid(pid_, &status, WNOHANG);
            if (got == pid_) {
                status_ = status;
                break;
            }
            if (TestClock::now() >= deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return status_;
    }

private:
    void kill_and_reap() {
        if (pid_ <= 0 || status_) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        status_ = status;
    }

    pid_t pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string buffer_;
    nlohmann::json info_;
    std::optional<int> status_;
};

// A command running in the background, stdout and stderr into files under `dir`.
class BackgroundCommand {
public:
    BackgroundCommand(const std::vector<std::string>& argv, const std::string& dir)
        : out_path_(dir + "/.stdout" + std::to_string(next_serial())),
          err_path_(dir + "/.stderr" + std::to_string(next_serial())) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int null = ::open("/dev/null", O_RDONLY);
            ::dup2(null, 0);
            ::dup2(out, 1);
            ::dup2(err, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~BackgroundCommand() {
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    BackgroundCommand(const BackgroundCommand&) = delete;
    BackgroundCommand& operator=(const BackgroundCommand&) = delete;

    pid_t pid() const { return pid_; }
    std::string out() const { return slurp(out_path_); }
    std::string err() const { return slurp(err_path_); }
    // Waits until stdout contains `text`; false after `seconds` or if the command ended first.
    bool wait_for_output(const std::string& text, int seconds) {
        const auto deadline = TestClock::now() + std::chrono::seconds(seconds);
        while (TestClock::now() < deadline) {
            if (out().find(text) != std::string::npos) return true;
            if (finished()) return out().find(text) != std::string::npos;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    bool finished() {
        if (status_) return true;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
        return status_.has_value();
    }
    // Exit code (128+N if killed by N), or nullopt if still running after `seconds`.
    std::optional<int> wait(int seconds) {
        const auto deadline = TestClock::now() + std::chrono::seconds(seconds);
        while (!finished() && TestClock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!status_) return std::nullopt;
        return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
    }
    void interrupt() { ::kill(pid_, SIGINT); }

private:
    static int next_serial() {
        static int serial = 0;
        return ++serial;
    }
    static std::string slurp(const std::string& path) {
        std::ifstream in(path);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    pid_t pid_ = -1;
    std::string out_path_, err_path_;
    std::optional<int> status_;
};

}  // namespace test_support
