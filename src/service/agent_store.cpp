#include "service/agent_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dumpscope::service {

namespace {

constexpr const char* kCollectionColumns =
    "id, agent, target, dump_type, compress, trigger_json, status, crash_id, error, created_at, "
    "started_at, finished_at";

std::optional<int64_t> optional_int(const Statement& row, int column) {
    if (!row.column_text(column)) return std::nullopt;
    return row.column_int(column);
}

CollectionRecord collection_of(const Statement& row) {
    CollectionRecord c;
    c.id = row.column_string(0);
    c.agent = row.column_string(1);
    c.target = row.column_string(2);
    c.type = row.column_string(3);
    c.compress = row.column_int(4) != 0;
    c.trigger_json = row.column_string(5);
    c.status = row.column_string(6);
    c.crash_id = row.column_text(7);
    c.error = row.column_text(8);
    c.created_ms = row.column_int(9);
    c.started_ms = optional_int(row, 10);
    c.finished_ms = optional_int(row, 11);
    return c;
}

AgentRecord agent_of(const Statement& row) {
    AgentRecord a;
    a.info.name = row.column_string(0);
    a.info.host = row.column_string(1);
    a.info.kernel = row.column_string(2);
    a.info.version = row.column_string(3);
    const nlohmann::json allow = nlohmann::json::parse(row.column_string(4), nullptr, false);
    if (allow.is_array())
        for (const auto& name : allow)
            if (name.is_string()) a.info.allow.push_back(name.get<std::string>());
    a.session = row.column_string(5);
    a.registered_ms = row.column_int(6);
    a.last_seen_ms = row.column_int(7);
    return a;
}

constexpr const char* kAgentColumns =
    "name, host, kernel, version, allow_list, session, registered_at, last_seen";

}  // namespace

Result<std::unique_ptr<AgentStore>> AgentStore::open(const std::string& path) {
    auto db = Database::open(path);
    if (!db.ok()) return db.error();
    return std::unique_ptr<AgentStore>(new AgentStore(std::move(*db)));
}

Result<int64_t> AgentStore::register_agent(const AgentInfo& info, const std::string& session,
                                           int64_t now) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    int64_t interrupted = 0;
    auto previous = db_.prepare("SELECT session FROM agents WHERE name = ?1");
    if (!previous.ok()) return previous.error();
    previous->bind(1, info.name);
    auto row = previous->step();
    if (!row.ok()) return row.error();
    if (*row && previous->column_string(0) != session) {
        auto fail = db_.prepare(
            "UPDATE collections SET status = 'failed', finished_at = ?2, error = 'interrupted: "
            "the agent restarted' WHERE agent = ?1 AND status = 'running'");
        if (!fail.ok()) return fail.error();
        DS_TRY(fail->bind(1, info.name).bind(2, now).run());
        interrupted = db_.changes();
    }
    auto upsert = db_.prepare(
        "INSERT INTO agents (name, host, kernel, version, allow_list, session, registered_at, "
        "last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (name) DO UPDATE SET host "
        "= excluded.host, kernel = excluded.kernel, version = excluded.version, allow_list = "
        "excluded.allow_list, session = excluded.session, registered_at = excluded.registered_at, "
        "last_seen = excluded.last_seen");
    if (!upsert.ok()) return upsert.error();
    DS_TRY(upsert->bind(1, info.name)
               .bind(2, info.host)
               .bind(3, info.kernel)
               .bind(4, info.version)
               .bind(5, nlohmann::json(info.allow).dump())
               .bind(6, session)
               .bind(7, now)
               .bind(8, now)
               .run());
    DS_TRY(transaction->commit());
    return interrupted;
}

Result<bool> AgentStore::touch(const std::string& name, const std::string& session, int64_t now) {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare("UPDATE agents SET last_seen = ?3 WHERE name = ?1 AND session = ?2");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, name).bind(2, session).bind(3, now).run());
    return db_.changes() == 1;
}

Result<std::vector<AgentRecord>> AgentStore::agents() {
    std::lock_guard lock(mutex_);
    auto select =
        db_.prepare(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY name");
    if (!select.ok()) return select.error();
    std::vector<AgentRecord> out;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        out.push_back(agent_of(*select));
    }
    return out;
}

Result<std::optional<AgentRecord>> AgentStore::agent(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto select =
        db_.prepare(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE name = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, name);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<AgentRecord>();
    return std::optional<AgentRecord>(agent_of(*select));
}

Status AgentStore::add_collection(const CollectionRecord& c) {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT INTO collections (id, agent, target, dump_type, compress, trigger_json, status, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)");
    if (!insert.ok()) return insert.error();
    return insert->bind(1, c.id)
        .bind(2, c.agent)
        .bind(3, c.target)
        .bind(4, c.type)
        .bind(5, int64_t{c.compress ? 1 : 0})
        .bind(6, c.trigger_json)
        .bind(7, c.created_ms)
        .run();
}

Result<std::optional<CollectionRecord>> AgentStore::collection(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(std::string("SELECT ") + kCollectionColumns +
                              " FROM collections WHERE id = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<CollectionRecord>();
    return std::optional<CollectionRecord>(collection_of(*select));
}

Result<std::vector<CollectionRecord>> AgentStore::collections(const std::string& agent,
                                                              int64_t limit) {
    std::lock_guard lock(mutex_);
    const std::string columns = std::string("SELECT ") + kCollectionColumns + " FROM collections";
    auto select = db_.prepare(
        agent.empty() ? columns + " ORDER BY created_at DESC, id LIMIT ?1"
                      : columns + " WHERE agent = ?1 ORDER BY created_at DESC, id LIMIT ?2");
    if (!select.ok()) return select.error();
    if (agent.empty())
        select->bind(1, limit);
    else
        select->bind(1, agent).bind(2, limit);
    std::vector<CollectionRecord> out;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        out.push_back(collection_of(*select));
    }
    return out;
}

Result<AgentWork> AgentStore::claim_work(const std::string& agent, int64_t now) {
    std::lock_guard lock(mutex_);
    auto transaction = Transaction::begin(db_);
    if (!transaction.ok()) return transaction.error();
    AgentWork work;
    auto claim = db_.prepare(std::string("UPDATE collections SET status = 'running', started_at = "
                                         "?2 WHERE agent = ?1 AND status = 'pending' RETURNING ") +
                             kCollectionColumns);
    if (!claim.ok()) return claim.error();
    claim->bind(1, agent).bind(2, now);
    for (;;) {
        auto row = claim->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        work.collections.push_back(collection_of(*claim));
    }
    auto requests = db_.prepare(
        "UPDATE agent_requests SET claimed = 1 WHERE agent = ?1 AND claimed = 0 RETURNING id, "
        "created_at");
    if (!requests.ok()) return requests.error();
    requests->bind(1, agent);
    std::vector<std::pair<int64_t, std::string>> by_time;
    for (;;) {
        auto row = requests->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        by_time.emplace_back(requests->column_int(1), requests->column_string(0));
    }
    DS_TRY(transaction->commit());
    std::sort(work.collections.begin(), work.collections.end(),
              [](const auto& a, const auto& b) { return a.created_ms < b.created_ms; });
    std::sort(by_time.begin(), by_time.end());
    for (auto& [time, id] : by_time) work.process_requests.push_back(std::move(id));
    return work;
}

Result<bool> AgentStore::finish_collection(const std::string& id, const std::string& agent,
                                           bool done, const std::optional<std::string>& crash_id,
                                           const std::optional<std::string>& error, int64_t now) {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare(
        "UPDATE collections SET status = ?3, crash_id = ?4, error = ?5, finished_at = ?6 WHERE id "
        "= ?1 AND agent = ?2 AND status = 'running'");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, id)
               .bind(2, agent)
               .bind(3, std::string(done ? "done" : "failed"))
               .bind_optional(4, crash_id)
               .bind_optional(5, error)
               .bind(6, now)
               .run());
    return db_.changes() == 1;
}

Status AgentStore::add_request(const std::string& id, const std::string& agent, int64_t now) {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT INTO agent_requests (id, agent, kind, created_at) VALUES (?1, ?2, 'processes', "
        "?3)");
    if (!insert.ok()) return insert.error();
    return insert->bind(1, id).bind(2, agent).bind(3, now).run();
}

Result<bool> AgentStore::answer_request(const std::string& id, const std::string& agent,
                                        const std::string& answer) {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare("UPDATE agent_requests SET answer = ?3 WHERE id = ?1 AND agent = ?2");
    if (!update.ok()) return update.error();
    DS_TRY(update->bind(1, id).bind(2, agent).bind(3, answer).run());
    return db_.changes() == 1;
}

Result<std::optional<std::string>> AgentStore::request_answer(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare("SELECT answer FROM agent_requests WHERE id = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<std::string>();
    return select->column_text(0);
}

Status AgentStore::remove_request(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto remove = db_.prepare("DELETE FROM agent_requests WHERE id = ?1");
    if (!remove.ok()) return remove.error();
    return remove->bind(1, id).run();
}

}  // namespace dumpscope::service
