// Headless Chromium driven over the DevTools protocol on a pipe, for tests that render a page:
// `--remote-debugging-pipe` reads commands from fd 3 and writes replies and events to fd 4, each
// a JSON text ended by a NUL byte. No WebSocket, no node: the protocol's JSON is all it takes.
// The browser runs in a process group of its own, with a profile in a directory the test owns,
// and is killed if the test dies (PR_SET_PDEATHSIG); the destructor closes it (Browser.close),
// then kills whatever of its group is left and waits until no process of the group is alive.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class HeadlessChromium {
public:
    using Clock = std::chrono::steady_clock;

    // The browser on PATH: Debian's `chromium` (package chromium), else `chromium-browser`; ""
    // when there is none.
    static std::string find_binary() {
        const char* path = std::getenv("PATH");
        std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
        std::vector<std::string> found;
        for (std::string dir; std::getline(dirs, dir, ':');) {
            for (const char* name : {"chromium", "chromium-browser"}) {
                const std::string candidate = dir + "/" + name;
                if (::access(candidate.c_str(), X_OK) == 0) return candidate;
            }
        }
        return "";
    }

    // Starts the browser with its profile in `profile_dir` and its output in `log_path`. Throws
    // when it cannot be started.
    HeadlessChromium(const std::string& binary, const std::string& profile_dir,
                     const std::string& log_path) {
        int to_browser[2], from_browser[2];
        if (::pipe2(to_browser, O_CLOEXEC) != 0 || ::pipe2(from_browser, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        // Out of the way of 3 and 4, which the browser's ends become.
        for (int* fd : {&to_browser[0], &to_browser[1], &from_browser[0], &from_browser[1]}) {
            const int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, 10);
            ::close(*fd);
            *fd = moved;
        }
        // No sandbox: it cannot start as root (and often not in a container); the page is ours.
        const std::vector<std::string> args = {binary,
                                               "--headless=new",
                                               "--no-sandbox",
                                               "--remote-debugging-pipe",
                                               "--user-data-dir=" + profile_dir,
                                               "--no-first-run",
                                               "--no-default-browser-check",
                                               "--disable-gpu",
                                               "--disable-extensions",
                                               "--disable-background-networking",
                                               "--disable-component-update",
                                               "--disable-sync",
                                               "--mute-audio",
                                               "about:blank"};
        // A browser that dies makes writes to its pipe fail with EPIPE instead of killing the test.
        ::signal(SIGPIPE, SIG_IGN);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            // A group of its own, led by the browser; and the browser dies with the test even
            // if the test is killed (its renderers and zygotes end when the browser does).
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            const int null = ::open("/dev/null", O_RDONLY);
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (null < 0 || log < 0) ::_exit(127);
            ::dup2(null, 0);
            ::dup2(log, 1);
            ::dup2(log, 2);
            ::dup2(to_browser[0], 3);
            ::dup2(from_browser[1], 4);
            ::execv(binary.c_str(), argv.data());
            ::_exit(127);
        }
        if (pid_ > 0) ::setpgid(pid_, pid_);  // also here, so that it holds once fork returns
        ::close(to_browser[0]);
        ::close(from_browser[1]);
        to_ = to_browser[1];
        from_ = from_browser[0];
        if (pid_ < 0) throw std::runtime_error("cannot start " + binary + ": fork failed");
    }

    ~HeadlessChromium() { shut_down(); }
    HeadlessChromium(const HeadlessChromium&) = delete;
    HeadlessChromium& operator=(const HeadlessChromium&) = delete;

    pid_t pid() const { return pid_; }

    // Sends a command (to a page's session when `session` is not empty) and waits for its reply,
    // keeping the events that arrive meanwhile. The reply's "result", or throws with its error.
    nlohmann::json call(const std::string& method, const nlohmann::json& params = {},
                        const std::string& session = "", int timeout_seconds = 60) {
        const int id = ++last_id_;
        nlohmann::json message = {{"id", id},
                                  {"method", method},
                                  {"params", params.is_null() ? nlohmann::json::object() : params}};
        if (!session.empty()) message["sessionId"] = session;
        std::string text = message.dump();
        text.push_back('\0');
        for (size_t done = 0; done < text.size();) {
            const ssize_t n = ::write(to_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("the browser's pipe is closed (" + method + ")");
            done += static_cast<size_t>(n);
        }
        const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
        while (true) {
            auto reply = next_message(deadline);
            if (!reply) throw std::runtime_error("no reply to " + method);
            if (reply->value("id", 0) != id) {
                events_.push_back(std::move(*reply));
                continue;
            }
            if (reply->contains("error"))
                throw std::runtime_error(method + " failed: " + (*reply)["error"].dump());
            return reply->value("result", nlohmann::json::object());
        }
    }

    // Waits for the event `method` (of `session`); events before it are kept.
    std::optional<nlohmann::json> wait_event(const std::string& method, const std::string& session,
                                             int timeout_seconds) {
        return wait_event_since(method, session, 0, timeout_seconds);
    }

    // Waits for the event `method` (of `session`) among the events from index `from` of
    // events() on (those received after a point the caller noted); nullopt at the timeout.
    std::optional<nlohmann::json> wait_event_since(const std::string& method,
                                                   const std::string& session, size_t from,
                                                   int timeout_seconds) {
        for (size_t i = from; i < events_.size(); ++i)
            if (events_[i].value("method", "") == method &&
                events_[i].value("sessionId", "") == session)
                return events_[i];
        const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
        while (auto message = next_message(deadline)) {
            events_.push_back(*message);
            if (message->value("method", "") == method &&
                message->value("sessionId", "") == session)
                return message;
        }
        return std::nullopt;
    }

    // Every event received so far.
    const std::vector<nlohmann::json>& events() const { return events_; }

    // Closes the browser and waits until no process of its group is alive (killing what is left
    // after 10 s). Returns false if some process of the group outlived even that.
    bool shut_down() {
        if (pid_ <= 0) return true;
        if (to_ >= 0) {
            try {
                call("Browser.close", {}, "", 10);
            } catch (const std::exception&) {
                // A browser that cannot close is killed below.
            }
            ::close(to_);
            to_ = -1;
        }
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        bool reaped = false;
        while (!reaped && Clock::now() < deadline) {
            reaped = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
            if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!reaped) {
            ::kill(-pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        // The renderer, GPU and zygote processes belong to the group; they end with the browser.
        bool group_gone = wait_group_gone(std::chrono::seconds(10));
        if (!group_gone) {
            ::kill(-pid_, SIGKILL);
            group_gone = wait_group_gone(std::chrono::seconds(10));
        }
        if (from_ >= 0) ::close(from_);
        from_ = -1;
        pid_ = -1;
        return group_gone;
    }

    // Processes of process group `pgid` that are alive (zombies waiting for their reaper aside).
    static std::vector<pid_t> live_group_members(pid_t pgid) {
        std::vector<pid_t> members;
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            const std::string name = entry.path().filename();
            if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
            std::ifstream in(entry.path() / "stat");
            std::string stat;
            std::getline(in, stat);
            const size_t end = stat.rfind(')');
            if (end == std::string::npos) continue;
            std::istringstream fields(stat.substr(end + 2));
            char state = 0;
            long ppid = 0, pgrp = 0;
            fields >> state >> ppid >> pgrp;
            if (pgrp == pgid && state != 'Z' && state != 'X') members.push_back(std::stoi(name));
        }
        return members;
    }

private:
    bool wait_group_gone(std::chrono::seconds limit) {
        const auto deadline = Clock::now() + limit;
        while (!live_group_members(pid_).empty()) {
            if (Clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }

    // The next NUL-terminated message from the browser, or nullopt at the deadline or its end.
    std::optional<nlohmann::json> next_message(Clock::time_point deadline) {
        while (true) {
            const size_t end = buffer_.find('\0');
            if (end != std::string::npos) {
                std::string text = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                return nlohmann::json::parse(text);
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{from_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return std::nullopt;
            char chunk[65536];
            const ssize_t n = ::read(from_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }

    pid_t pid_ = -1;
    int to_ = -1;
    int from_ = -1;
    int last_id_ = 0;
    std::string buffer_;
    std::vector<nlohmann::json> events_;
};

// A page opened in a new tab: what the checks need from it.
struct RenderedPage {
    nlohmann::json facts;               // the value of the expression evaluated after the load
    std::vector<std::string> problems;  // console errors and warnings, uncaught exceptions,
                                        // error log entries, requests for anything but the page
    double load_seconds = 0;
};

// Opens `file` in a new tab of `browser`, waits for its load event, evaluates `expression` (its
// value must be JSON-serialisable), then gathers what went wrong while it loaded.
inline RenderedPage render_page(HeadlessChromium& browser, const std::string& file,
                                const std::string& expression) {
    const auto started = HeadlessChromium::Clock::now();
    const std::string target =
        browser.call("Target.createTarget", {{"url", "about:blank"}}).at("targetId");
    const std::string session =
        browser.call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}})
            .at("sessionId");
    for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"})
        browser.call(domain, {}, session);
    const std::string url = "file://" + file;
    const auto navigated = browser.call("Page.navigate", {{"url", url}}, session);
    if (navigated.contains("errorText"))
        throw std::runtime_error("cannot open " + url + ": " + navigated["errorText"].dump());
    if (!browser.wait_event("Page.loadEventFired", session, 60))
        throw std::runtime_error("no load event for " + url);
    RenderedPage page;
    page.load_seconds =
        std::chrono::duration<double>(HeadlessChromium::Clock::now() - started).count();
    const auto evaluated = browser.call(
        "Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}}, session);
    if (evaluated.contains("exceptionDetails"))
        page.problems.push_back("the test's expression threw: " +
                                evaluated["exceptionDetails"].dump());
    page.facts = evaluated.at("result").value("value", nlohmann::json());
    for (const nlohmann::json& e : browser.events()) {
        if (e.value("sessionId", "") != session) continue;
        const std::string method = e.value("method", "");
        const nlohmann::json& params = e.contains("params") ? e["params"] : nlohmann::json();
        if (method == "Runtime.consoleAPICalled") {
            const std::string type = params.value("type", "");
            if (type == "error" || type == "warning" || type == "assert")
                page.problems.push_back("console." + type + ": " + params["args"].dump());
        } else if (method == "Runtime.exceptionThrown") {
            page.problems.push_back("page error: " + params["exceptionDetails"].dump());
        } else if (method == "Log.entryAdded") {
            const std::string level = params["entry"].value("level", "");
            if (level == "error" || level == "warning")
                page.problems.push_back("log " + level + ": " + params["entry"].dump());
        } else if (method == "Network.requestWillBeSent") {
            const std::string requested = params["request"].value("url", "");
            if (requested != url) page.problems.push_back("request for " + requested);
        }
    }
    return page;
}

}  // namespace test_support
