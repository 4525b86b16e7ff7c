// The service's storage without a server: crash ids, the token check, the SQLite store (schema
// version, queue order, stale results, re-queue at start-up, signatures, filters) and the dump
// directory (atomic files, 0600, leftovers removed, ids only).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "service/auth.h"
#include "service/crash_id.h"
#include "service/crash_store.h"
#include "service/dump_directory.h"
#include "service/schema.h"
#include "service/sqlite_db.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

TEST(ServiceCrashId, RandomHexAndStrictlyChecked) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        auto id = new_crash_id();
        ASSERT_TRUE(id.ok());
        EXPECT_TRUE(is_crash_id(*id)) << *id;
        seen.insert(*id);
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_FALSE(is_crash_id(""));
    EXPECT_FALSE(is_crash_id("0123456789abcdef0123456789abcde"));    // 31
    EXPECT_FALSE(is_crash_id("0123456789abcdef0123456789abcdef0"));  // 33
    EXPECT_FALSE(is_crash_id("0123456789ABCDEF0123456789abcdef"));
    EXPECT_FALSE(is_crash_id("../../crashes.db/aaaaaaaaaaaaaaaa"));
    EXPECT_FALSE(is_crash_id(std::string("0123456789abcdef0123456789abcde\0", 32)));
}

TEST(ServiceAuth, BearerTokenMustMatchExactly) {
    EXPECT_TRUE(bearer_authorized("Bearer s3cret", "s3cret"));
    EXPECT_FALSE(bearer_authorized("Bearer s3cre", "s3cret"));
    EXPECT_FALSE(bearer_authorized("Bearer s3cretx", "s3cret"));
    EXPECT_FALSE(bearer_authorized("Bearer S3cret", "s3cret"));
    EXPECT_FALSE(bearer_authorized("Basic s3cret", "s3cret"));
    EXPECT_FALSE(bearer_authorized("s3cret", "s3cret"));
    EXPECT_FALSE(bearer_authorized("", "s3cret"));
    // An empty configured token never matches (the server refuses to start without one).
    EXPECT_FALSE(bearer_authorized("Bearer ", ""));
}

NewCrash crash(const std::string& id, int64_t at, Annotations annotations = {}) {
    return NewCrash{id, at, 10, std::move(annotations)};
}

std::string id_of(int n) {
    std::string id(32, '0');
    id.back() = static_cast<char>('0' + n);
    return id;
}

ProcessedCrash result(const std::string& signature, const std::string& program,
                      const std::string& crash_class = "") {
    return ProcessedCrash{
        "minidump",     crash_class, signature, program, "{\"signature\":\"" + signature + "\"}",
        "<html></html>"};
}

TEST(ServiceStore, SchemaIsMigratedOnceAndANewerOneIsRefused) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    {
        auto store = CrashStore::open(path);
        ASSERT_TRUE(store.ok()) << store.error().message;
        EXPECT_EQ(*(*store)->schema_version(), latest_schema_version());
        ASSERT_TRUE((*store)->insert(crash(id_of(1), 1000)).ok());
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    {
        auto store = CrashStore::open(path);  // migrations already applied: data kept
        ASSERT_TRUE(store.ok()) << store.error().message;
        EXPECT_TRUE((*(*store)->get(id_of(1))).has_value());
    }
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db.ok());
        ASSERT_TRUE(db->exec("UPDATE schema_version SET version = version + 1").ok());
    }
    auto newer = CrashStore::open(path);
    ASSERT_FALSE(newer.ok());
    EXPECT_NE(newer.error().message.find("newer than this dumpscope"), std::string::npos)
        << newer.error().message;
}

// A database made by the first release (schema 1) is migrated at open, its crashes kept.
TEST(ServiceStore, OlderSchemaIsMigratedWithItsData) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db.ok());
        ASSERT_TRUE(migrate(*db, 1).ok());
        EXPECT_EQ(*current_schema_version(*db), 1);
        ASSERT_TRUE(db->exec("INSERT INTO crashes (id, status, received_at, dump_size) VALUES ('" +
                             id_of(1) + "', 'queued', 5, 10)")
                        .ok());
        EXPECT_FALSE(db->exec("SELECT crash_class FROM crashes").ok());
    }
    auto store = CrashStore::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(*(*store)->schema_version(), latest_schema_version());
    EXPECT_GE(latest_schema_version(), 2);
    auto job = (*store)->claim_next();
    ASSERT_TRUE(job.ok() && job->has_value());
    EXPECT_EQ((*job)->id, id_of(1));
    ASSERT_TRUE(*(*store)->finish_processed(**job, result("f", "p", "null-dereference")));
    EXPECT_EQ((*(*store)->get(id_of(1)))->crash_class, "null-dereference");
    auto by_class =
        (*store)->list({std::nullopt, std::nullopt, std::string("null-dereference"), 10});
    ASSERT_TRUE(by_class.ok());
    ASSERT_EQ(by_class->size(), 1u);
    EXPECT_EQ((*by_class)[0].crash_class, "null-dereference");
    EXPECT_EQ((*(*store)->list({std::nullopt, std::nullopt, std::string("abort"), 10})).size(), 0u);
}

TEST(ServiceStore, QueueIsOldestFirstAndAReprocessedCrashDropsTheStaleResult) {
    TempDir dir;
    auto opened = CrashStore::open(dir.path + "/crashes.db");
    ASSERT_TRUE(opened.ok());
    CrashStore& store = **opened;
    ASSERT_TRUE(store.insert(crash(id_of(2), 2000, {{"prod", "a"}, {"prod", "b"}})).ok());
    ASSERT_TRUE(store.insert(crash(id_of(1), 1000)).ok());

    auto first = store.claim_next();
    ASSERT_TRUE(first.ok() && first->has_value());
    EXPECT_EQ((*first)->id, id_of(1));
    auto second = store.claim_next();
    ASSERT_TRUE(second.ok() && second->has_value());
    EXPECT_EQ((*second)->id, id_of(2));
    auto none = store.claim_next();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ((*store.get(id_of(2)))->status, "processing");
    EXPECT_EQ((*store.get(id_of(2)))->annotations, (Annotations{{"prod", "b"}}));

    EXPECT_TRUE(*store.finish_processed(**first, result("f", "p")));
    EXPECT_EQ((*store.get(id_of(1)))->status, "processed");
    EXPECT_EQ((*store.get(id_of(1)))->signature, "f");
    EXPECT_EQ(*store.analysis_html(id_of(1)), "<html></html>");

    // Re-queued while a worker had it: that worker's result is stale and dropped.
    EXPECT_TRUE(*store.requeue(id_of(2)));
    EXPECT_FALSE(*store.finish_failed(**second, "old error"));
    EXPECT_EQ((*store.get(id_of(2)))->status, "queued");
    auto again = store.claim_next();
    ASSERT_TRUE(again.ok() && again->has_value());
    EXPECT_GT((*again)->attempt, (*second)->attempt);
    EXPECT_TRUE(*store.finish_failed(**again, "not a dump"));
    EXPECT_EQ((*store.get(id_of(2)))->error, "not a dump");
    EXPECT_FALSE(*store.requeue(id_of(9)));
    EXPECT_FALSE((*store.get(id_of(9))).has_value());
}

TEST(ServiceStore, InterruptedCrashesAreQueuedAgainAtStart) {
    TempDir dir;
    const std::string path = dir.path + "/crashes.db";
    {
        auto store = CrashStore::open(path);
        ASSERT_TRUE(store.ok());
        ASSERT_TRUE((*store)->insert(crash(id_of(1), 1000)).ok());
        ASSERT_TRUE((*store)->insert(crash(id_of(2), 2000)).ok());
        ASSERT_TRUE((*(*store)->claim_next()).has_value());
        EXPECT_EQ((*store)->requeued_at_start(), 0);
    }
    auto store = CrashStore::open(path);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->requeued_at_start(), 1);
    EXPECT_EQ((*(*store)->get(id_of(1)))->status, "queued");
    EXPECT_EQ((*(*store)->get(id_of(2)))->status, "queued");
}

TEST(ServiceStore, SignaturesAndFilters) {
    TempDir dir;
    auto opened = CrashStore::open(dir.path + "/crashes.db");
    ASSERT_TRUE(opened.ok());
    CrashStore& store = **opened;
    const struct {
        int n;
        int64_t at;
        const char* signature;
        const char* program;
    } rows[] = {{1, 100, "a", "p"}, {2, 300, "a", "q"}, {3, 200, "a", "p"}, {4, 400, "b", "p"}};
    for (const auto& r : rows) {
        ASSERT_TRUE(
            store
                .insert(crash(id_of(r.n), r.at, {{"ver", std::to_string(r.n % 2)}, {"other", "x"}}))
                .ok());
        auto job = store.claim_next();
        ASSERT_TRUE(job.ok() && job->has_value());
        ASSERT_TRUE(*store.finish_processed(**job, result(r.signature, r.program)));
    }
    ASSERT_TRUE(store.insert(crash(id_of(5), 500)).ok());  // queued: not a top crasher yet

    auto signatures = store.signatures(10);
    ASSERT_TRUE(signatures.ok());
    ASSERT_EQ(signatures->size(), 2u);
    EXPECT_EQ((*signatures)[0].signature, "a");
    EXPECT_EQ((*signatures)[0].count, 3);
    EXPECT_EQ((*signatures)[0].first_ms, 100);
    EXPECT_EQ((*signatures)[0].last_ms, 300);
    EXPECT_EQ(
        std::set<std::string>((*signatures)[0].programs.begin(), (*signatures)[0].programs.end()),
        (std::set<std::string>{"p", "q"}));
    EXPECT_EQ((*signatures)[0].versions, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ((*signatures)[1].signature, "b");
    EXPECT_EQ((*signatures)[1].versions, (std::vector<std::string>{"0"}));
    EXPECT_EQ((*store.signatures(1)).size(), 1u);

    auto all = store.list({});
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 5u);
    EXPECT_EQ((*all)[0].id, id_of(5));  // newest first
    EXPECT_EQ((*all)[4].id, id_of(1));
    auto a_in_p = store.list({std::string("a"), std::string("p"), std::nullopt, 100});
    ASSERT_TRUE(a_in_p.ok());
    ASSERT_EQ(a_in_p->size(), 2u);
    EXPECT_EQ((*a_in_p)[0].id, id_of(3));
    EXPECT_EQ((*a_in_p)[1].id, id_of(1));
    EXPECT_EQ((*store.list({std::nullopt, std::nullopt, std::nullopt, 2})).size(), 2u);
    // A filter is a value, never SQL.
    EXPECT_EQ((*store.list({std::string("a' OR '1'='1"), std::nullopt, std::nullopt, 100})).size(),
              0u);
}

TEST(ServiceDumpDirectory, FilesAppearWholeAndPrivate) {
    TempDir dir;
    const std::string data = dir.path + "/data";
    auto dumps = DumpDirectory::open(data);
    ASSERT_TRUE(dumps.ok()) << dumps.error().message;
    {
        auto pending = dumps->begin();
        ASSERT_TRUE(pending.ok());
        ASSERT_TRUE(pending->write("MDMP").ok());
        ASSERT_TRUE(pending->write("rest").ok());
        EXPECT_EQ(pending->size(), 8u);
        ASSERT_TRUE(pending->commit(id_of(1)).ok());
    }
    {
        auto abandoned = dumps->begin();
        ASSERT_TRUE(abandoned.ok());
        ASSERT_TRUE(abandoned->write("half").ok());
    }
    const std::string path = *dumps->path_of(id_of(1));
    EXPECT_EQ(path, data + "/dumps/" + id_of(1));
    const std::vector<uint8_t> bytes = test_files::load(path);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "MDMPrest");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((data + "/dumps").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // Only the committed dump is there: the abandoned one was removed with its owner.
    EXPECT_EQ(std::system(("test $(ls -A '" + data + "/dumps' | wc -l) = 1").c_str()), 0);

    // A temporary file a killed server left is removed at the next start.
    test_files::save(data + "/dumps/.upload-leftover", {1, 2, 3});
    ASSERT_TRUE(DumpDirectory::open(data).ok());
    EXPECT_NE(::access((data + "/dumps/.upload-leftover").c_str(), F_OK), 0);
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);

    EXPECT_FALSE(dumps->path_of("../crashes.db").ok());
    EXPECT_FALSE(dumps->remove("..").ok());
    auto bad = dumps->begin();
    ASSERT_TRUE(bad.ok());
    EXPECT_FALSE(bad->commit("../../etc/x").ok());
}

}  // namespace
}  // namespace dumpscope::service
