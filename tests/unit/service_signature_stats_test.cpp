// The signature summaries (signature_stats.h) stay equal to a from-scratch GROUP BY over the
// crashes through a random sequence of inserts, claims, results (processed, failed, stale), kills,
// re-queues and removals on a SQLite store; the migration fills them from existing crashes; and
// CrashStore::signatures reads them as the crashes say.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "service/crash_id.h"
#include "service/crash_store.h"
#include "service/database.h"
#include "service/schema.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

// Every row of `sql`, its columns joined by '|', sorted.
std::vector<std::string> rows_of(Database& db, const std::string& sql) {
    auto select = db.prepare(sql);
    EXPECT_TRUE(select.ok()) << sql << ": " << select.error().message;
    std::vector<std::string> out;
    if (!select.ok()) return out;
    for (;;) {
        auto row = select->step();
        EXPECT_TRUE(row.ok()) << sql;
        if (!row.ok() || !*row) break;
        std::string line;
        for (int column = 0; column < 4; ++column) {
            if (column > 0) line += '|';
            line += select->column_string(column);
        }
        out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Each summary table, as stored and as the crashes say (the independent reading).
void expect_summaries_exact(Database& db, const std::string& when) {
    const std::string processed = "status = 'processed' AND signature IS NOT NULL";
    EXPECT_EQ(rows_of(db, "SELECT signature, count, first_ms, last_ms FROM signature_stats"),
              rows_of(db,
                      "SELECT signature, COUNT(*), MIN(received_at), MAX(received_at) FROM "
                      "crashes WHERE " +
                          processed + " GROUP BY signature"))
        << when;
    EXPECT_EQ(rows_of(db, "SELECT signature, program, count, '' FROM signature_programs"),
              rows_of(db, "SELECT signature, program, COUNT(*), '' FROM crashes WHERE " +
                              processed + " AND program IS NOT NULL GROUP BY signature, program"))
        << when;
    EXPECT_EQ(
        rows_of(db, "SELECT signature, crash_class, count, '' FROM signature_classes"),
        rows_of(db, "SELECT signature, crash_class, COUNT(*), '' FROM crashes WHERE " + processed +
                        " AND crash_class IS NOT NULL GROUP BY signature, crash_class"))
        << when;
    EXPECT_EQ(rows_of(db, "SELECT signature, version, count, '' FROM signature_versions"),
              rows_of(db,
                      "SELECT c.signature, a.value, COUNT(*), '' FROM crashes c JOIN annotations "
                      "a ON a.crash_id = c.id WHERE c.status = 'processed' AND c.signature IS NOT "
                      "NULL AND a.key IN ('ver', 'version') GROUP BY c.signature, a.value"))
        << when;
    EXPECT_EQ(rows_of(db, "SELECT signature, day, count, '' FROM signature_days"),
              rows_of(db,
                      "SELECT signature, received_at / 86400000, COUNT(*), '' FROM crashes "
                      "WHERE " +
                          processed + " GROUP BY signature, received_at / 86400000"))
        << when;
}

constexpr int64_t kBase = int64_t{1'780'000'000'000};  // 2026, ms
constexpr int64_t kDay = 86'400'000;

TEST(ServiceSignatureStats, ExactThroughRandomTransitions) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    auto store = CrashStore::open(path, StoreOptions{"test-owner", 60'000});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto reader = Database::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().message;

    std::mt19937 rng(15);
    const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const std::vector<std::string> signatures = {"a | main", "b | run", "c | loop", "d | x"};
    const std::vector<std::string> programs = {"svc", "cli", "daemon"};
    const std::vector<std::string> versions = {"1.0", "1.1", "2.0"};
    std::vector<std::string> ids;
    std::vector<ClaimedJob> claimed;  // claims not yet answered, and some answered (stale)
    std::map<std::string, int> operations;
    for (int step = 0; step < 400; ++step) {
        const int op = pick(10);
        if (op < 3 || ids.empty()) {
            auto id = new_crash_id();
            ASSERT_TRUE(id.ok());
            Annotations annotations = {{"prod", "x"}};
            if (pick(3) != 0) annotations.emplace_back("ver", versions[pick(3)]);
            if (pick(4) == 0) annotations.emplace_back("version", versions[pick(3)]);
            // Several crashes share a time, so first/last recomputation meets ties.
            const int64_t at = kBase + pick(20) * kDay / 2 + pick(3) * 1000;
            ASSERT_TRUE((*store)->insert(NewCrash{*id, at, 10, annotations}).ok());
            ids.push_back(*id);
            ++operations["insert"];
        } else if (op < 5) {
            auto job = (*store)->claim_next();
            ASSERT_TRUE(job.ok()) << job.error().message;
            if (*job) claimed.push_back(**job);
            ++operations["claim"];
        } else if (op < 7 && !claimed.empty()) {
            // Answer a claim: processed mostly, else failed or killed; a stale one changes nothing.
            const size_t which = static_cast<size_t>(pick(static_cast<int>(claimed.size())));
            const ClaimedJob job = claimed[which];
            const int how = pick(6);
            if (how < 4) {
                ProcessedCrash result{"minidump",        "",   signatures[pick(4)],
                                      programs[pick(3)], "{}", "<html></html>"};
                if (pick(5) == 0) result.program.clear();
                ASSERT_TRUE((*store)->finish_processed(job, result).ok());
                ++operations["processed"];
            } else if (how == 4) {
                ASSERT_TRUE((*store)->finish_failed(job, "bad dump").ok());
                ++operations["failed"];
            } else {
                ASSERT_TRUE((*store)->end_without_answer(job, 2, "killed").ok());
                ++operations["killed"];
            }
            if (pick(3) != 0) claimed.erase(claimed.begin() + static_cast<long>(which));
        } else if (op < 9) {
            const std::string& id = ids[static_cast<size_t>(pick(static_cast<int>(ids.size())))];
            ASSERT_TRUE((*store)->requeue(id).ok());
            ++operations["requeue"];
        } else {
            const size_t which = static_cast<size_t>(pick(static_cast<int>(ids.size())));
            auto removed = (*store)->remove(ids[which]);
            ASSERT_TRUE(removed.ok());
            if (*removed) ids.erase(ids.begin() + static_cast<long>(which));
            ++operations["remove"];
        }
        if (step % 20 == 19) expect_summaries_exact(*reader, "after step " + std::to_string(step));
        if (HasFailure()) return;
    }
    expect_summaries_exact(*reader, "at the end");
    // The sequence did reach every transition, and left some processed crashes to summarize.
    for (const char* name :
         {"insert", "claim", "processed", "failed", "killed", "requeue", "remove"})
        EXPECT_GT(operations[name], 0) << name;
    EXPECT_FALSE(rows_of(*reader, "SELECT signature FROM signature_stats").empty());
}

TEST(ServiceSignatureStats, SignaturesListReadsTheSummariesAsTheCrashesSay) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    auto store = CrashStore::open(path, StoreOptions{"test-owner", 60'000});
    ASSERT_TRUE(store.ok()) << store.error().message;
    // "hot": three crashes (two programs, versions 1.0 and 2.0); "cold": one, then a second one
    // re-queued (it no longer counts, and its later time no longer is the last).
    struct Plan {
        int64_t at;
        std::string signature, program, version;
        bool requeue;
    };
    const std::vector<Plan> plans = {{kBase + 5, "hot", "svc", "2.0", false},
                                     {kBase + 1, "hot", "cli", "1.0", false},
                                     {kBase + 9, "hot", "svc", "1.0", false},
                                     {kBase + 3, "cold", "svc", "3.0", false},
                                     {kBase + 20, "cold", "zzz", "9.9", true}};
    for (const Plan& plan : plans) {
        auto id = new_crash_id();
        ASSERT_TRUE(id.ok());
        ASSERT_TRUE((*store)->insert(NewCrash{*id, plan.at, 10, {{"ver", plan.version}}}).ok());
        auto job = (*store)->claim_next();
        ASSERT_TRUE(job.ok() && *job);
        ASSERT_TRUE(*(*store)->finish_processed(
            **job, ProcessedCrash{"minidump", "", plan.signature, plan.program, "{}", ""}));
        if (plan.requeue) {
            ASSERT_TRUE(*(*store)->requeue(*id));
        }
    }
    auto list = (*store)->signatures(10);
    ASSERT_TRUE(list.ok()) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    const SignatureSummary& hot = (*list)[0];
    EXPECT_EQ(hot.signature, "hot");
    EXPECT_EQ(hot.count, 3);
    EXPECT_EQ(hot.first_ms, kBase + 1);
    EXPECT_EQ(hot.last_ms, kBase + 9);
    EXPECT_EQ(hot.programs, (std::vector<std::string>{"cli", "svc"}));
    EXPECT_EQ(hot.versions, (std::vector<std::string>{"1.0", "2.0"}));
    const SignatureSummary& cold = (*list)[1];
    EXPECT_EQ(cold.signature, "cold");
    EXPECT_EQ(cold.count, 1);
    EXPECT_EQ(cold.first_ms, kBase + 3);
    EXPECT_EQ(cold.last_ms, kBase + 3);
    EXPECT_EQ(cold.programs, (std::vector<std::string>{"svc"}));
    EXPECT_EQ(cold.versions, (std::vector<std::string>{"3.0"}));
    auto top = (*store)->signatures(1);
    ASSERT_TRUE(top.ok());
    ASSERT_EQ(top->size(), 1u);
    EXPECT_EQ((*top)[0].signature, "hot");
}

TEST(ServiceSignatureStats, MigrationFillsThemFromExistingCrashes) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    auto db = Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE(migrate(*db, latest_schema_version() - 1).ok());
    // Crashes written before the summaries existed: processed ones of two signatures over two
    // days, one without a program, and crashes that are not processed (which do not count).
    ASSERT_TRUE(
        db->exec("INSERT INTO crashes (id, status, received_at, dump_size, signature, program) "
                 "VALUES ('c1', 'processed', 1780000000000, 1, 's1', 'p1'), ('c2', 'processed', "
                 "1780000000500, 1, 's1', 'p2'), ('c3', 'processed', 1780090000000, 1, 's1', "
                 "NULL), ('c4', 'processed', 1780000000100, 1, 's2', 'p1'), ('c5', 'failed', "
                 "1780000000200, 1, NULL, NULL), ('c6', 'queued', 1780000000300, 1, NULL, NULL)")
            .ok());
    ASSERT_TRUE(db->exec("INSERT INTO annotations (crash_id, key, value) VALUES ('c1', 'ver', "
                         "'1'), ('c2', 'ver', '1'), ('c2', 'version', '2'), ('c5', 'ver', '7')")
                    .ok());
    ASSERT_TRUE(migrate(*db).ok());
    EXPECT_EQ(rows_of(*db, "SELECT signature, count, first_ms, last_ms FROM signature_stats"),
              (std::vector<std::string>{"s1|3|1780000000000|1780090000000",
                                        "s2|1|1780000000100|1780000000100"}));
    EXPECT_EQ(rows_of(*db, "SELECT signature, day, count, '' FROM signature_days"),
              (std::vector<std::string>{"s1|20601|2|", "s1|20602|1|", "s2|20601|1|"}));
    EXPECT_EQ(rows_of(*db, "SELECT signature, version, count, '' FROM signature_versions"),
              (std::vector<std::string>{"s1|1|2|", "s1|2|1|"}));
    expect_summaries_exact(*db, "after the migration");
}

}  // namespace
}  // namespace dumpscope::service
