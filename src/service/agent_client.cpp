#include "service/agent_client.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/version.h"
#include "service/agent_collect.h"
#include "service/agent_connection.h"
#include "service/agent_processes.h"
#include "service/agent_request.h"
#include "service/agent_upload.h"
#include "service/crash_id.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The server holds a poll 25 s; the read waits a little longer.
constexpr auto kPollReadTimeout = 40s;
constexpr int kReportAttempts = 60;

void pause_for(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
    const auto until = std::chrono::steady_clock::now() + duration;
    while (!stop.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(20ms);
}

std::string hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

std::string kernel_release() {
    utsname u{};
    if (::uname(&u) != 0) return "unknown";
    return u.release;
}

class Agent {
public:
    Agent(const AgentOptions& options, AgentConnection connection, std::string session,
          const std::atomic<bool>& stop)
        : options_(options),
          connection_(std::move(connection)),
          session_(std::move(session)),
          stop_(stop) {}

    void run() {
        std::thread worker([this] { collect_loop(); });
        poll_loop();
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        queued_.notify_all();
        worker.join();
    }

    // From another thread: ends a poll the server is holding.
    void interrupt() {
        std::lock_guard lock(client_mutex_);
        if (poll_client_ != nullptr) poll_client_->stop();
    }

private:
    std::string path(const std::string& tail) const {
        return "/api/agents/" + options_.name + tail;
    }

    bool register_once(httplib::Client& client) {
        json body{{"session", session_},
                  {"host", hostname()},
                  {"kernel", kernel_release()},
                  {"version", kToolVersion},
                  {"allow", options_.allow}};
        auto result = client.Post(path("/register"), body.dump(), "application/json");
        if (result && result->status == 200) {
            fmt::print("agent {} registered with {}\n", options_.name, connection_.server());
            std::fflush(stdout);
            return true;
        }
        fmt::print(stderr, "dumpscope agent: cannot register with {}: {}\n", connection_.server(),
                   describe_answer(result));
        return false;
    }

    void poll_loop() {
        {
            std::lock_guard lock(client_mutex_);
            poll_client_ = connection_.client(
                std::chrono::duration_cast<std::chrono::seconds>(kPollReadTimeout));
        }
        httplib::Client& client = *poll_client_;
        bool registered = false;
        int failures = 0;
        while (!stop_.load()) {
            if (failures > 0)
                pause_for(std::chrono::milliseconds(std::min(200 << std::min(failures, 5), 5000)),
                          stop_);
            if (stop_.load()) break;
            if (!registered) {
                registered = register_once(client);
                failures = registered ? 0 : failures + 1;
                continue;
            }
            auto result =
                client.Post(path("/poll"), json{{"session", session_}}.dump(), "application/json");
            if (!result || result->status != 200) {
                if (!stop_.load())
                    fmt::print(stderr, "dumpscope agent: poll: {}\n", describe_answer(result));
                registered = false;
                ++failures;
                continue;
            }
            failures = 0;
            const json work = json::parse(result->body, nullptr, false);
            if (!work.is_object()) continue;
            for (const json& id : work.value("processes", json::array()))
                if (id.is_string()) answer_processes(client, id.get<std::string>());
            for (const json& c : work.value("collections", json::array())) queue(c);
        }
    }

    void answer_processes(httplib::Client& client, const std::string& id) {
        if (!is_crash_id(id)) return;
        auto processes = list_processes(options_.allow);
        json body{{"session", session_},
                  {"processes", processes.ok() ? *processes : json::array()}};
        if (!processes.ok()) body["error"] = processes.error().message;
        auto result = client.Post(path("/answers/" + id),
                                  body.dump(-1, ' ', false, json::error_handler_t::replace),
                                  "application/json");
        if (!result || result->status != 200)
            fmt::print(stderr, "dumpscope agent: answering the process list: {}\n",
                       describe_answer(result));
    }

    void queue(const json& c) {
        if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) return;
        CollectionRecord record;
        record.id = c["id"].get<std::string>();
        record.target = c.value("target", "");
        record.type = c.value("type", "");
        record.compress = c.value("compress", true);
        record.trigger_json = c.contains("trigger") ? c["trigger"].dump() : "{}";
        if (!is_crash_id(record.id)) return;
        {
            std::lock_guard lock(mutex_);
            pending_.push_back(std::move(record));
        }
        queued_.notify_all();
    }

    void collect_loop() {
        auto client = connection_.client(60s);
        for (;;) {
            CollectionRecord next;
            {
                std::unique_lock lock(mutex_);
                queued_.wait(lock, [&] { return done_ || !pending_.empty(); });
                if (pending_.empty()) return;
                next = std::move(pending_.front());
                pending_.pop_front();
            }
            report(*client, next.id, run_collection(next));
        }
    }

    // The crash id of the uploaded dump, or why there is none.
    Result<std::string> run_collection(const CollectionRecord& collection) {
        std::string templ = options_.work_dir + "/dumpscope-agent-XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr)
            return errno_error("cannot create a directory in " + options_.work_dir);
        struct Cleanup {
            std::string dir;
            ~Cleanup() {
                std::error_code ignored;
                std::filesystem::remove_all(dir, ignored);
            }
        } cleanup{templ};
        fmt::print(stderr, "dumpscope agent: collection {}: {} ({})\n", collection.id,
                   collection.target, collection.type);
        auto dump = collect_for_server(collection, options_.allow, templ);
        if (!dump.ok()) return dump.error();
        std::vector<std::pair<std::string, std::string>> annotations{
            {"agent", options_.name},           {"collection_id", collection.id},
            {"trigger", dump->trigger},         {"target", collection.target},
            {"pid", std::to_string(dump->pid)}, {"host", hostname()},
        };
        auto uploaded =
            upload_resumable(connection_, dump->path, annotations, options_.chunk_bytes, stop_);
        if (!uploaded.ok()) return uploaded.error();
        if (uploaded->resumes > 0)
            fmt::print(stderr, "dumpscope agent: collection {}: upload resumed {} time(s)\n",
                       collection.id, uploaded->resumes);
        return uploaded->crash_id;
    }

    void report(httplib::Client& client, const std::string& id, const Result<std::string>& result) {
        json body{{"session", session_}};
        if (result.ok()) {
            body["status"] = "done";
            body["crash_id"] = *result;
        } else {
            body["status"] = "failed";
            std::string error = result.error().message;
            for (char& c : error)
                if (static_cast<unsigned char>(c) < 0x20) c = ' ';
            body["error"] = error.substr(0, 4000);
        }
        fmt::print(stderr, "dumpscope agent: collection {}: {}\n", id,
                   result.ok() ? "done, crash " + *result : "failed: " + result.error().message);
        for (int attempt = 0; attempt < kReportAttempts && !stop_.load(); ++attempt) {
            auto answer = client.Post(path("/collections/" + id),
                                      body.dump(-1, ' ', false, json::error_handler_t::replace),
                                      "application/json");
            if (answer && answer->status < 500) {
                if (answer->status != 200)
                    fmt::print(stderr, "dumpscope agent: reporting collection {}: {}\n", id,
                               describe_answer(answer));
                // 404 {register}: a server that lost this agent; the poll loop registers again.
                if (answer->status != 404) return;
            }
            pause_for(1s, stop_);
        }
    }

    const AgentOptions& options_;
    AgentConnection connection_;
    std::string session_;
    const std::atomic<bool>& stop_;
    std::mutex client_mutex_;
    std::unique_ptr<httplib::Client> poll_client_;
    std::mutex mutex_;
    std::condition_variable queued_;
    std::deque<CollectionRecord> pending_;
    bool done_ = false;
};

}  // namespace

Status run_agent(const AgentOptions& options, const std::atomic<bool>& stop) {
    if (!is_agent_name(options.name))
        return Error{
            fmt::format("--name '{}': an agent name is [A-Za-z0-9._-]{{1,64}}", options.name)};
    for (const std::string& name : options.allow) {
        auto checked = check_target(json(name));
        if (!checked.ok() || name.find_first_not_of("0123456789") == std::string::npos)
            return Error{fmt::format("--allow '{}': a process name is expected", name)};
    }
    if (options.chunk_bytes == 0) return Error{"the upload chunk size must be > 0"};
    auto connection = AgentConnection::create(options.server, options.token);
    if (!connection.ok()) return connection.error();
    auto session = new_crash_id();
    if (!session.ok()) return session.error();
    Agent agent(options, std::move(*connection), *session, stop);
    std::thread watcher([&] {
        while (!stop.load()) std::this_thread::sleep_for(50ms);
        agent.interrupt();
    });
    agent.run();
    watcher.join();
    return {};
}

}  // namespace dumpscope::service
