// Remote collection end to end: a real `dumpscope server` and real `dumpscope agent` processes,
// fixtures as targets. The agent registers and is listed, reports its processes, collects by PID
// and by name (the dump processed by the server and read back by lldb-16 after `zstd -d`), a cpu
// trigger fires, its allow-list refuses, an upload resumes after a proxy cuts the connection
// mid-chunk, an agent re-registers with a restarted server, and a restarted agent fails the
// collection it was running.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <list>
#include <mutex>
#include <sstream>

#include "headless_chromium.h"
#include "monitored_child.h"
#include "service_support.h"

namespace {

using namespace service_support;

// `dumpscope agent --server URL --token T --name NAME [extra]`, its stderr in DIR/agent-N.log;
// SIGKILLed and reaped on destruction (or by kill()).
class AgentProcess {
public:
    AgentProcess(const std::string& url, const std::string& name, const std::string& log,
                 const std::vector<std::string>& extra = {})
        : log_(log) {
        std::vector<std::string> argv{dumpscope_binary(), "agent", "--server", url,
                                      "--token",          kToken,  "--name",   name};
        argv.insert(argv.end(), extra.begin(), extra.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~AgentProcess() { kill(); }
    AgentProcess(const AgentProcess&) = delete;
    AgentProcess& operator=(const AgentProcess&) = delete;
    void kill() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    std::string log() const { return file_text(log_); }

private:
    pid_t pid_ = -1;
    std::string log_;
};

// A TCP proxy on 127.0.0.1 in front of a server (whose port may change: a restarted server). With
// cut_put_after(N), the connection carrying PUTs is cut once (in the middle of one read) when N
// bytes of PUT requests went through in all. Every "Content-Range: bytes FIRST-" it forwards is
// recorded.
class CuttingProxy {
public:
    explicit CuttingProxy(int upstream_port) : upstream_(upstream_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("proxy: cannot listen");
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~CuttingProxy() {
        stop_ = true;
        acceptor_.join();
        for (auto& t : connections_) t.join();
        ::close(listener_);
    }
    CuttingProxy(const CuttingProxy&) = delete;
    CuttingProxy& operator=(const CuttingProxy&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    void set_upstream(int port) { upstream_ = port; }
    void cut_put_after(uint64_t bytes) { cut_after_ = bytes; }
    bool cut() const { return cut_done_; }
    std::vector<uint64_t> range_starts() {
        std::lock_guard lock(mutex_);
        return range_starts_;
    }

private:
    void accept_loop() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            connections_.emplace_back([this, client] { pump(client); });
        }
    }

    void note_ranges(const std::string& window) {
        const std::string key = "Content-Range: bytes ";
        for (size_t at = window.find(key); at != std::string::npos; at = window.find(key, at + 1)) {
            const size_t dash = window.find('-', at + key.size());
            if (dash == std::string::npos) continue;
            std::lock_guard lock(mutex_);
            range_starts_.push_back(std::stoull(window.substr(at + key.size(), dash)));
        }
    }

    void pump(int client) {
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(upstream_.load()));
        if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(server);
            ::close(client);
            return;
        }
        bool carries_put = false;
        while (!stop_) {
            pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
            if (::poll(p, 2, 100) <= 0) continue;
            char buffer[16384];
            bool closed = false;
            for (int i = 0; i < 2 && !closed; ++i) {
                if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                const ssize_t n = ::read(p[i].fd, buffer, sizeof buffer);
                if (n <= 0) {
                    closed = true;
                    break;
                }
                const std::string chunk(buffer, static_cast<size_t>(n));
                if (i == 0) {
                    // Headers are small and sent in one write: one chunk holds them whole.
                    note_ranges(chunk);
                    if (chunk.rfind("PUT /api/uploads/", 0) == 0) carries_put = true;
                    if (carries_put && !cut_done_ && cut_after_ > 0) {
                        put_bytes_ += static_cast<uint64_t>(n);
                        if (put_bytes_ >= cut_after_) {
                            // Half of this read goes through, then the connection is cut.
                            (void)::write(server, buffer, static_cast<size_t>(n) / 2);
                            cut_done_ = true;
                            closed = true;
                            break;
                        }
                    }
                }
                const int to = i == 0 ? server : client;
                if (::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) closed = true;
            }
            if (closed) break;
        }
        ::close(server);
        ::close(client);
    }

    int listener_ = -1;
    int port_ = 0;
    std::atomic<int> upstream_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> cut_after_{0};
    std::atomic<bool> cut_done_{false};
    std::atomic<uint64_t> put_bytes_{0};
    std::thread acceptor_;
    std::list<std::thread> connections_;
    std::mutex mutex_;
    std::vector<uint64_t> range_starts_;
};

json post_json(const ServerProcess& server, const std::string& path, const json& body,
               int* status) {
    httplib::Client c = server.client();
    auto r = c.Post(path, with_token(), body.dump(), "application/json");
    if (!r) return nullptr;
    *status = r->status;
    return json::parse(r->body, nullptr, false);
}

// Polls until pred(value) or the deadline; returns the last value.
template <typename F, typename P>
auto wait_for(F fetch, P pred, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    auto value = fetch();
    while (!pred(value) && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        value = fetch();
    }
    return value;
}

json agent_entry(const ServerProcess& server, const std::string& name) {
    const json agents = get_json(server, "/api/agents");
    if (agents.is_object())
        for (const json& a : agents["agents"])
            if (a.value("name", "") == name) return a;
    return nullptr;
}

json wait_online(const ServerProcess& server, const std::string& name) {
    return wait_for([&] { return agent_entry(server, name); },
                    [](const json& a) { return a.is_object() && a.value("online", false); });
}

json wait_collection(const ServerProcess& server, const std::string& id,
                     int seconds = kGenerousSeconds) {
    return wait_for([&] { return get_json(server, "/api/collections/" + id); },
                    [](const json& c) {
                        return c.is_object() && (c.value("status", "") == "done" ||
                                                 c.value("status", "") == "failed");
                    },
                    seconds);
}

std::string collect(const ServerProcess& server, const std::string& agent, const json& request) {
    int status = 0;
    const json answer = post_json(server, "/api/agents/" + agent + "/collect", request, &status);
    EXPECT_EQ(status, 202) << answer.dump();
    return answer.is_object() ? answer.value("id", "") : "";
}

// The crash's dump downloaded into DIR/NAME, decompressed by zstd when it is compressed; the
// plain dump's path.
std::string download_plain(const ServerProcess& server, const std::string& crash,
                           const TempDir& dir, const std::string& name) {
    httplib::Client c = server.client();
    auto r = c.Get("/api/crashes/" + crash + "/dump", with_token());
    EXPECT_TRUE(r && r->status == 200);
    if (!r) return "";
    const std::string path = dir.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << r->body;
    if (r->body.rfind("MDMP", 0) == 0) return path;
    const CommandResult z = run({"zstd", "-q", "-d", "-f", path, "-o", path + ".plain"});
    EXPECT_EQ(z.exit_code, 0) << z.err;
    return path + ".plain";
}

// lldb-16's "Process PID stopped" for a minidump: the independent reader's view of the pid.
std::string lldb_process_line(const std::string& dump) {
    const CommandResult r =
        run({"lldb-16", "--no-lldbinit", "-b", "-c", dump, "-o", "process status"}, 120);
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("Process ", 0) == 0) return line;
    return "no process line: " + r.out + r.err;
}

std::string current_user() {
    const CommandResult r = run({"id", "-un"});
    std::string name = r.out;
    while (!name.empty() && name.back() == '\n') name.pop_back();
    return name;
}

// A name only this test's fixture answers to (its argv[0]), so fixtures of tests running at the
// same time on the machine do not make a name ambiguous.
std::string unique_name(const std::string& what) { return what + "_" + std::to_string(::getpid()); }

class ServiceAgent : public ::testing::Test {
protected:
    TempDir dir_;
    std::string log(const std::string& name) const { return dir_.path() + "/" + name + ".log"; }
};

TEST_F(ServiceAgent, RegistersListsProcessesAndCollectsByPidAndByName) {
    ServerProcess server(dir_.path() + "/data");
    const std::string name = unique_name("agent_target");
    Fixture target("fixture_healthy", {}, name);
    AgentProcess agent(server.url(), "box-1", log("box-1"));

    const json entry = wait_online(server, "box-1");
    ASSERT_TRUE(entry.is_object()) << agent.log();
    utsname u{};
    ::uname(&u);
    EXPECT_EQ(entry["kernel"], u.release);
    EXPECT_FALSE(entry.value("host", "").empty());
    EXPECT_FALSE(entry.value("version", "").empty());
    EXPECT_EQ(entry["allow"], json::array());

    int status = 0;
    const json processes = get_json(server, "/api/agents/box-1/processes", &status);
    ASSERT_EQ(status, 200) << processes.dump();
    json fixture;
    for (const json& p : processes["processes"])
        if (p["pid"] == target.pid()) fixture = p;
    ASSERT_TRUE(fixture.is_object()) << "the fixture is not in the agent's list";
    EXPECT_EQ(fixture["name"], "fixture_healthy");
    EXPECT_EQ(fixture["cmdline"], name);
    EXPECT_EQ(fixture["user"], current_user());
    EXPECT_GT(fixture.value("rss_bytes", 0), 0);
    EXPECT_TRUE(fixture["allowed"].get<bool>());

    // By PID, compressed (the default).
    const std::string by_pid =
        collect(server, "box-1", {{"target", target.pid()}, {"type", "mini"}});
    json c = wait_collection(server, by_pid);
    ASSERT_EQ(c.value("status", ""), "done") << c.dump() << agent.log();
    EXPECT_EQ(c["agent"], "box-1");
    EXPECT_EQ(c["target"], std::to_string(target.pid()));
    const json crash = wait_until_done(server, c["crash_id"]);
    EXPECT_EQ(crash["status"], "processed") << crash.dump();
    EXPECT_EQ(crash["annotations"]["agent"], "box-1");
    EXPECT_EQ(crash["annotations"]["collection_id"], by_pid);
    EXPECT_EQ(crash["annotations"]["trigger"], "manual");
    const std::string plain = download_plain(server, c["crash_id"], dir_, "by-pid.dmp.zst");
    EXPECT_EQ(lldb_process_line(plain).rfind("Process " + std::to_string(target.pid()) + " ", 0),
              0u)
        << lldb_process_line(plain);

    // By name, not compressed.
    const std::string by_name =
        collect(server, "box-1", {{"target", name}, {"type", "midi"}, {"compress", false}});
    c = wait_collection(server, by_name);
    ASSERT_EQ(c.value("status", ""), "done") << c.dump() << agent.log();
    EXPECT_EQ(wait_until_done(server, c["crash_id"])["status"], "processed");
    const std::string raw = download_plain(server, c["crash_id"], dir_, "by-name.dmp");
    EXPECT_EQ(file_text(raw).rfind("MDMP", 0), 0u);
    EXPECT_EQ(lldb_process_line(raw).rfind("Process " + std::to_string(target.pid()) + " ", 0), 0u);

    const json listed = get_json(server, "/api/collections?agent=box-1");
    ASSERT_EQ(listed["collections"].size(), 2u);
    EXPECT_EQ(listed["collections"][0]["id"], by_name);  // newest first
}

TEST_F(ServiceAgent, RefusesMalformedRequests) {
    ServerProcess server(dir_.path() + "/data");
    AgentProcess agent(server.url(), "box-2", log("box-2"));
    ASSERT_TRUE(wait_online(server, "box-2").is_object()) << agent.log();
    const std::vector<std::pair<json, std::string>> refused = {
        {{{"target", 1}, {"color", "red"}}, "unknown key 'color'"},
        {{{"type", "mini"}}, "target is missing"},
        {{{"target", "../etc/passwd"}}, "without '/'"},
        {{{"target", 0}}, "not a PID"},
        {{{"target", 1}, {"type", "huge"}}, "type must be mini, midi or full"},
        {{{"target", 1}, {"trigger", {{"cpuu", 5}}}}, "unknown trigger option 'cpuu'"},
        {{{"target", 1}, {"trigger", {{"signal", "KILL"}}}}, "cannot be caught"},
        {{{"target", 1}, {"trigger", {{"hang_thread", 5}}}}, "--hang-thread needs --hang"},
        {{{"target", 1}, {"compress", "yes"}}, "compress must be true or false"},
    };
    for (const auto& [body, message] : refused) {
        int status = 0;
        const json answer = post_json(server, "/api/agents/box-2/collect", body, &status);
        EXPECT_EQ(status, 400) << body.dump();
        EXPECT_NE(answer.value("error", "").find(message), std::string::npos)
            << body.dump() << " -> " << answer.dump();
    }
    int status = 0;
    post_json(server, "/api/agents/nobody/collect", {{"target", 1}}, &status);
    EXPECT_EQ(status, 404);
    post_json(server, "/api/agents/bad%20name/collect", {{"target", 1}}, &status);
    EXPECT_EQ(status, 404);
    get_json(server, "/api/collections/not-an-id", &status);
    EXPECT_EQ(status, 404);
    // Without the token.
    httplib::Client c = server.client();
    auto r = c.Get("/api/agents");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(get_json(server, "/api/collections")["collections"], json::array());
}

TEST_F(ServiceAgent, CpuTriggerFires) {
    ServerProcess server(dir_.path() + "/data");
    DrivenFixture target("fixture_burn");
    target.send("burn");
    AgentProcess agent(server.url(), "box-3", log("box-3"));
    ASSERT_TRUE(wait_online(server, "box-3").is_object()) << agent.log();
    // 10 %: a burning thread may get little of a core on a loaded machine (triggers_test).
    const std::string id = collect(
        server, "box-3",
        {{"target", target.pid()}, {"trigger", {{"cpu", 10}, {"seconds", 1}, {"poll_ms", 200}}}});
    const json c = wait_collection(server, id);
    ASSERT_EQ(c.value("status", ""), "done") << c.dump() << agent.log();
    EXPECT_EQ(c["trigger"], json({{"cpu", 10}, {"seconds", 1}, {"poll_ms", 200}}));
    const json crash = wait_until_done(server, c["crash_id"]);
    EXPECT_EQ(crash["status"], "processed");
    EXPECT_EQ(crash["annotations"]["trigger"], "cpu >= 10% for 1 s");
    EXPECT_TRUE(eventually_running(target.pid()));
}

TEST_F(ServiceAgent, AllowListRefusesOtherProcesses) {
    ServerProcess server(dir_.path() + "/data");
    const std::string name = unique_name("agent_refused");
    Fixture healthy("fixture_healthy", {}, name);
    AgentProcess agent(server.url(), "box-4", log("box-4"),
                       {"--allow", "fixture_burn,not_running"});
    const json entry = wait_online(server, "box-4");
    ASSERT_TRUE(entry.is_object()) << agent.log();
    EXPECT_EQ(entry["allow"], json({"fixture_burn", "not_running"}));
    const json processes = get_json(server, "/api/agents/box-4/processes");
    bool listed = false;
    for (const json& p : processes["processes"])
        if (p["pid"] == healthy.pid()) {
            listed = true;
            EXPECT_FALSE(p["allowed"].get<bool>());
        }
    EXPECT_TRUE(listed);
    for (const json& target : {json(healthy.pid()), json(name)}) {
        const json c = wait_collection(server, collect(server, "box-4", {{"target", target}}));
        EXPECT_EQ(c.value("status", ""), "failed") << c.dump();
        EXPECT_NE(c.value("error", "").find("is not on this agent's allow-list"), std::string::npos)
            << c.dump();
        EXPECT_TRUE(c["crash_id"].is_null());
    }
    EXPECT_EQ(get_json(server, "/api/crashes")["crashes"], json::array());
}

TEST_F(ServiceAgent, UploadResumesAfterADroppedConnection) {
    ServerProcess server(dir_.path() + "/data");
    Fixture target("fixture_healthy");
    CuttingProxy proxy(server.port());
    // 64 KiB chunks; the connection carrying the uploads is cut 100 KiB into them, mid-chunk.
    proxy.cut_put_after(100 << 10);
    AgentProcess agent(proxy.url(), "box-5", log("box-5"), {"--chunk-kb", "64"});
    ASSERT_TRUE(wait_online(server, "box-5").is_object()) << agent.log();
    const std::string id =
        collect(server, "box-5", {{"target", target.pid()}, {"type", "full"}, {"compress", false}});
    const json c = wait_collection(server, id);
    ASSERT_EQ(c.value("status", ""), "done") << c.dump() << agent.log();
    EXPECT_TRUE(proxy.cut());
    // After the cut the agent asked where the upload stood and went on from there: a chunk
    // starts at an offset that is not a multiple of 64 KiB (the server kept part of one).
    const std::vector<uint64_t> starts = proxy.range_starts();
    EXPECT_TRUE(std::any_of(starts.begin(), starts.end(), [](uint64_t s) {
        return s % (64 << 10) != 0;
    })) << ::testing::PrintToString(starts);
    EXPECT_NE(agent.log().find("upload resumed"), std::string::npos) << agent.log();
    const json crash = wait_until_done(server, c["crash_id"]);
    EXPECT_EQ(crash["status"], "processed") << crash.dump();
    const std::string raw = download_plain(server, c["crash_id"], dir_, "resumed.dmp");
    EXPECT_EQ(lldb_process_line(raw).rfind("Process " + std::to_string(target.pid()) + " ", 0), 0u);
    // Nothing is left of the upload on the server.
    EXPECT_EQ(entries_of(dir_.path() + "/data/uploads"), std::vector<std::string>{});
}

TEST_F(ServiceAgent, ReregistersWithARestartedServerAndAfterItsOwnRestart) {
    auto first = std::make_unique<ServerProcess>(dir_.path() + "/data");
    CuttingProxy proxy(first->port());
    auto agent = std::make_unique<AgentProcess>(proxy.url(), "box-6", log("box-6"));
    ASSERT_TRUE(wait_online(*first, "box-6").is_object()) << agent->log();
    first.reset();
    // A new server with a database of its own: the agent's poll fails, it registers again.
    ServerProcess second(dir_.path() + "/data2");
    proxy.set_upstream(second.port());
    const json entry = wait_online(second, "box-6");
    ASSERT_TRUE(entry.is_object()) << agent->log();

    // A restarted agent: the collection it was running (waiting for a trigger that does not
    // come) fails, and the new agent process is registered.
    Fixture idle("fixture_healthy");
    const std::string id = collect(
        second, "box-6", {{"target", idle.pid()}, {"trigger", {{"cpu", 99000}, {"poll_ms", 200}}}});
    const json running = wait_for([&] { return get_json(second, "/api/collections/" + id); },
                                  [](const json& c) { return c.value("status", "") == "running"; });
    ASSERT_EQ(running.value("status", ""), "running") << running.dump();
    agent->kill();
    AgentProcess again(proxy.url(), "box-6", log("box-6-again"));
    const json failed = wait_collection(second, id);
    EXPECT_EQ(failed.value("status", ""), "failed");
    EXPECT_NE(failed.value("error", "").find("the agent restarted"), std::string::npos)
        << failed.dump();
    const json now = agent_entry(second, "box-6");
    EXPECT_GT(now.value("registered_at", ""), entry.value("registered_at", ""));
    EXPECT_TRUE(eventually_running(idle.pid()));
}

// Evaluates `expression` in the page until it gives `wanted` (a page being replaced by the next
// one may not answer meanwhile); the last value.
json evaluate_until(HeadlessChromium& browser, const std::string& session,
                    const std::string& expression, const std::function<bool(const json&)>& wanted,
                    int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    json value;
    while (Clock::now() < deadline) {
        try {
            const json result =
                browser.call("Runtime.evaluate",
                             {{"expression", expression}, {"returnByValue", true}}, session, 10);
            value = result.at("result").value("value", json());
            if (wanted(value)) return value;
        } catch (const std::exception&) {
            // The context was destroyed by a navigation: ask again.
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return value;
}

// Console errors and warnings, exceptions, error log entries of the session, from event `first`.
std::vector<std::string> page_problems(const HeadlessChromium& browser, const std::string& session,
                                       size_t first) {
    std::vector<std::string> problems;
    for (size_t i = first; i < browser.events().size(); ++i) {
        const json& e = browser.events()[i];
        if (e.value("sessionId", "") != session) continue;
        const std::string method = e.value("method", "");
        const json& params = e.contains("params") ? e["params"] : json();
        if (method == "Runtime.consoleAPICalled") {
            const std::string type = params.value("type", "");
            if (type == "error" || type == "warning" || type == "assert")
                problems.push_back("console." + type + ": " + params["args"].dump());
        } else if (method == "Runtime.exceptionThrown") {
            problems.push_back("page error: " + params["exceptionDetails"].dump());
        } else if (method == "Log.entryAdded") {
            const std::string level = params["entry"].value("level", "");
            if (level == "error" || level == "warning")
                problems.push_back("log " + level + ": " + params["entry"].dump());
        }
    }
    return problems;
}

// Logged in through the form, the agent's page lists the fixture with a Collect button; a click
// posts the form (with the session's CSRF token) and lands on the collection's page; the
// collection finishes. No console error on the way. A POST without the token is refused.
TEST_F(ServiceAgent, CollectButtonInHeadlessChromium) {
    const std::string chromium = HeadlessChromium::find_binary();
    ASSERT_FALSE(chromium.empty()) << "chromium is not installed (make deps installs it)";
    ServerProcess server(dir_.path() + "/data");
    Fixture target("fixture_healthy", {}, unique_name("agent_button"));
    AgentProcess agent(server.url(), "box-7", log("box-7"));
    ASSERT_TRUE(wait_online(server, "box-7").is_object()) << agent.log();

    TempDir profile;
    pid_t group = -1;
    std::string collection;
    {
        HeadlessChromium browser(chromium, profile.path() + "/profile",
                                 profile.path() + "/chromium.log");
        group = browser.pid();
        const std::string tab =
            browser.call("Target.createTarget", {{"url", "about:blank"}}).at("targetId");
        const std::string session =
            browser.call("Target.attachToTarget", {{"targetId", tab}, {"flatten", true}})
                .at("sessionId");
        for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable"})
            browser.call(domain, {}, session);
        auto page_is = [&](const std::string& path) {
            return evaluate_until(browser, session,
                                  "document.readyState === 'complete' ? location.pathname + ' ' + "
                                  "document.title : ''",
                                  [&](const json& v) {
                                      return v.is_string() &&
                                             v.get<std::string>().rfind(path, 0) == 0;
                                  });
        };
        browser.call("Page.navigate", {{"url", server.url() + "/login"}}, session);
        EXPECT_EQ(page_is("/login"), "/login Log in - dumpscope");
        browser.call("Runtime.evaluate",
                     {{"expression", std::string("document.querySelector('input[name=token]')"
                                                 ".value = '") +
                                         kToken + "'; document.querySelector('form').submit();"}},
                     session);
        EXPECT_EQ(page_is("/ "), "/ Top crashers - dumpscope");
        // The login form itself comes with a 401 (web_pages.h), which the browser logs as an
        // error: the agent pages are judged from here on.
        const size_t logged_in = browser.events().size();
        browser.call("Page.navigate", {{"url", server.url() + "/agents"}}, session);
        EXPECT_EQ(page_is("/agents"), "/agents Agents - dumpscope");
        browser.call("Page.navigate", {{"url", server.url() + "/agents/box-7"}}, session);
        EXPECT_EQ(page_is("/agents/box-7"), "/agents/box-7 Agent box-7 - dumpscope");
        const std::string button = "collect-" + std::to_string(target.pid());
        const json clicked = browser.call(
            "Runtime.evaluate",
            {{"expression", "(() => { const b = document.getElementById('" + button +
                                "'); if (!b) return false; b.click(); return true; })()"},
             {"returnByValue", true}},
            session);
        EXPECT_EQ(clicked.at("result").value("value", json()), true) << "no button " << button;
        const json landed = page_is("/collections/");
        ASSERT_TRUE(landed.is_string()) << landed.dump();
        const std::string where = landed.get<std::string>();
        collection = where.substr(std::string("/collections/").size(), 32);
        EXPECT_EQ(page_problems(browser, session, logged_in), std::vector<std::string>{});
        EXPECT_TRUE(browser.shut_down());
    }
    EXPECT_TRUE(HeadlessChromium::live_group_members(group).empty());
    const json c = wait_collection(server, collection);
    EXPECT_EQ(c.value("status", ""), "done") << c.dump() << agent.log();
    EXPECT_EQ(c["target"], std::to_string(target.pid()));

    // The same form without the session's token: refused, nothing queued.
    httplib::Client client = server.client();
    auto login =
        client.Post("/login", "token=" + std::string(kToken), "application/x-www-form-urlencoded");
    ASSERT_TRUE(login);
    const std::string cookie = login->get_header_value("Set-Cookie");
    const std::string session_cookie = cookie.substr(0, cookie.find(';'));
    auto forged = client.Post(
        "/agents/box-7/collect", {{"Cookie", session_cookie}},
        "target=" + std::to_string(target.pid()) + "&type=mini&csrf=" + std::string(32, '0'),
        "application/x-www-form-urlencoded");
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->status, 403);
    // With the session's token but sent from another site: refused as well (web_login.h).
    auto page = client.Get("/agents/box-7", {{"Cookie", session_cookie}});
    ASSERT_TRUE(page);
    const std::string marker = "name=\"csrf\" value=\"";
    const size_t at = page->body.find(marker);
    ASSERT_NE(at, std::string::npos) << page->body;
    const std::string token = page->body.substr(at + marker.size(), 32);
    auto cross_site =
        client.Post("/agents/box-7/collect",
                    {{"Cookie", session_cookie}, {"Origin", "http://elsewhere.example"}},
                    "target=" + std::to_string(target.pid()) + "&type=mini&csrf=" + token,
                    "application/x-www-form-urlencoded");
    ASSERT_TRUE(cross_site);
    EXPECT_EQ(cross_site->status, 403);
    EXPECT_NE(cross_site->body.find("another site"), std::string::npos) << cross_site->body;
    EXPECT_EQ(get_json(server, "/api/collections")["collections"].size(), 1u);
}

}  // namespace
