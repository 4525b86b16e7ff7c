// Remote collection's records (docs/service.md, "Agents"): the agents that registered, the
// collections asked of them and the process-list requests waiting for an agent's answer, in the
// server's database (tables agents, collections, agent_requests: migration 3 of schema.cpp), so
// every server process sharing the database sees them. Its own connection to the database, every
// call serialized by one mutex. Times are milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/sqlite_db.h"

namespace dumpscope::service {

struct AgentInfo {
    std::string name;
    std::string host;
    std::string kernel;
    std::string version;
    std::vector<std::string> allow;  // process names the agent collects; empty: any
};

struct AgentRecord {
    AgentInfo info;
    std::string session;  // random per agent process: a new one is a restarted agent
    int64_t registered_ms = 0;
    int64_t last_seen_ms = 0;
};

struct CollectionRecord {
    std::string id;
    std::string agent;
    std::string target;  // a PID or a process name
    std::string type;    // mini, midi, full
    bool compress = true;
    std::string trigger_json;  // "{}" for a dump at once
    std::string status;        // pending, running, done, failed
    std::optional<std::string> crash_id, error;
    int64_t created_ms = 0;
    std::optional<int64_t> started_ms, finished_ms;
};

// What an agent's poll takes: process-list requests and collections, each handed out once.
struct AgentWork {
    std::vector<std::string> process_requests;
    std::vector<CollectionRecord> collections;
    bool empty() const { return process_requests.empty() && collections.empty(); }
};

class AgentStore {
public:
    // Its own connection to the database at `path` (already migrated by CrashStore::open).
    static Result<std::unique_ptr<AgentStore>> open(const std::string& path);

    // Inserts or updates the agent. A session other than the stored one is a restarted agent:
    // the collections it was running fail ("interrupted: the agent restarted"); returns how many.
    Result<int64_t> register_agent(const AgentInfo& info, const std::string& session, int64_t now);
    // last_seen = now; false for an agent that never registered (or a session that is not its
    // current one: an older agent process still running under the same name).
    Result<bool> touch(const std::string& name, const std::string& session, int64_t now);
    // By name.
    Result<std::vector<AgentRecord>> agents();
    Result<std::optional<AgentRecord>> agent(const std::string& name);

    Status add_collection(const CollectionRecord& collection);
    Result<std::optional<CollectionRecord>> collection(const std::string& id);
    // Newest first; all agents when `agent` is empty.
    Result<std::vector<CollectionRecord>> collections(const std::string& agent, int64_t limit);
    // The agent's pending collections (now running) and unclaimed process-list requests, oldest
    // first.
    Result<AgentWork> claim_work(const std::string& agent, int64_t now);
    // A running collection of `agent` ends: done with its crash id, or failed with an error;
    // false if it is not running on that agent.
    Result<bool> finish_collection(const std::string& id, const std::string& agent, bool done,
                                   const std::optional<std::string>& crash_id,
                                   const std::optional<std::string>& error, int64_t now);

    Status add_request(const std::string& id, const std::string& agent, int64_t now);
    // The agent's answer to its request; false if there is no such request for that agent.
    Result<bool> answer_request(const std::string& id, const std::string& agent,
                                const std::string& answer);
    Result<std::optional<std::string>> request_answer(const std::string& id);
    Status remove_request(const std::string& id);

private:
    explicit AgentStore(Database db) : db_(std::move(db)) {}

    std::mutex mutex_;
    Database db_;
};

}  // namespace dumpscope::service
