// Group commit in the service's ingest path (group_commit.h): callers that arrive during a flush
// share the next one and each gets its own result; the directory fsync and the index inserts
// built on it; the SQLite log checkpointed from a thread of its own.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "service/crash_store.h"
#include "service/database.h"
#include "service/directory_sync.h"
#include "service/group_commit.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

// Polls `done` every millisecond for at most 10 s.
template <typename Done>
bool wait_until(Done done) {
    for (int i = 0; i < 10000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

TEST(ServiceGroupCommit, CallersArrivingDuringAFlushShareTheNextAndKeepTheirOwnResults) {
    GroupCommit<int> group;
    constexpr int kLater = 8;
    std::atomic<bool> in_first_flush{false};
    std::vector<size_t> batch_sizes;  // only the flushing thread touches it
    auto flush = [&](std::vector<GroupCommit<int>::Entry*>& batch) {
        // The first flush holds on until every later caller is queued behind it.
        if (batch_sizes.empty()) {
            in_first_flush = true;
            EXPECT_TRUE(wait_until([&] { return group.queued() == kLater; }));
        }
        batch_sizes.push_back(batch.size());
        for (auto* entry : batch) {
            if (entry->item % 2 == 1) entry->result = Error{"odd " + std::to_string(entry->item)};
        }
    };
    std::vector<Status> results(kLater + 1);
    std::thread first([&] { results[0] = group.submit(0, flush); });
    ASSERT_TRUE(wait_until([&] { return in_first_flush.load(); }));
    std::vector<std::thread> later;
    for (int i = 1; i <= kLater; ++i)
        later.emplace_back([&, i] { results[static_cast<size_t>(i)] = group.submit(i, flush); });
    first.join();
    for (std::thread& t : later) t.join();

    EXPECT_EQ(group.flushes(), 2u);
    EXPECT_EQ(batch_sizes, (std::vector<size_t>{1, kLater}));
    for (int i = 0; i <= kLater; ++i) {
        const Status& result = results[static_cast<size_t>(i)];
        EXPECT_EQ(result.ok(), i % 2 == 0) << i;
        if (!result.ok()) {
            EXPECT_EQ(result.error().message, "odd " + std::to_string(i));
        }
    }
}

// A flush that throws: the exception reaches the caller that ran it, the others of its batch get
// an error, and the group goes on with the next batch.
TEST(ServiceGroupCommit, AFlushThatThrowsFailsItsBatchAndTheGroupGoesOn) {
    GroupCommit<int> group;
    int flushes = 0;  // only the flushing thread touches it
    std::atomic<bool> in_first_flush{false};
    auto flush = [&](std::vector<GroupCommit<int>::Entry*>&) {
        ++flushes;
        // The first batch holds on until three callers are queued: they make the second batch.
        if (flushes == 1) {
            in_first_flush = true;
            EXPECT_TRUE(wait_until([&] { return group.queued() == 3; }));
        }
        if (flushes == 2) throw std::runtime_error("thrown");
    };
    std::vector<std::string> outcome(5);
    auto submit = [&](int i) {
        try {
            const Status result = group.submit(i, flush);
            outcome[static_cast<size_t>(i)] = result.ok() ? "ok" : result.error().message;
        } catch (const std::runtime_error& e) {
            outcome[static_cast<size_t>(i)] = e.what();
        }
    };
    std::thread first([&] { submit(0); });
    ASSERT_TRUE(wait_until([&] { return in_first_flush.load(); }));
    std::vector<std::thread> batch;
    for (int i = 1; i <= 3; ++i) batch.emplace_back([&, i] { submit(i); });
    first.join();
    for (std::thread& t : batch) t.join();
    submit(4);

    EXPECT_EQ(outcome[0], "ok");
    EXPECT_EQ(std::count(outcome.begin() + 1, outcome.begin() + 4, "thrown"), 1);
    EXPECT_EQ(std::count(outcome.begin() + 1, outcome.begin() + 4,
                         "internal error while committing a group"),
              2);
    EXPECT_EQ(outcome[4], "ok");
    EXPECT_EQ(group.flushes(), 3u);
}

TEST(ServiceDirectorySync, SyncsTheDirectoryAndRefusesWhatIsNotOne) {
    TempDir dir;
    auto sync = DirectorySync::open(dir.path);
    ASSERT_TRUE(sync.ok()) << sync.error().message;
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) callers.emplace_back([&] { EXPECT_TRUE((*sync)->sync().ok()); });
    for (std::thread& t : callers) t.join();
    EXPECT_GE((*sync)->syncs_run(), 1u);
    EXPECT_LE((*sync)->syncs_run(), 4u);

    test_files::save(dir.path + "/file", {1});
    auto not_a_directory = DirectorySync::open(dir.path + "/file");
    ASSERT_FALSE(not_a_directory.ok());
    EXPECT_NE(not_a_directory.error().message.find(dir.path + "/file"), std::string::npos);
}

// Many uploads inserted at once, one of them with an id already stored: that one fails, every
// other is stored, however the inserts were grouped.
TEST(ServiceGroupCommit, ConcurrentInsertsFailOnlyTheBadOne) {
    TempDir dir;
    auto store = CrashStore::open(dir.path + "/index.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto id_of = [](int n) {
        std::string id = std::to_string(n);
        return std::string(32 - id.size(), 'a') + id;
    };
    ASSERT_TRUE((*store)->insert(NewCrash{id_of(0), 1, 10, {}}).ok());
    constexpr int kUploads = 24;
    std::vector<Status> results(kUploads);
    std::vector<std::thread> uploads;
    for (int i = 0; i < kUploads; ++i) {
        uploads.emplace_back([&, i] {
            // Upload 7 repeats the stored id.
            const std::string id = i == 7 ? id_of(0) : id_of(100 + i);
            results[static_cast<size_t>(i)] =
                (*store)->insert(NewCrash{id, 2, 10, {{"prod", "p" + std::to_string(i)}}});
        });
    }
    for (std::thread& t : uploads) t.join();
    for (int i = 0; i < kUploads; ++i) EXPECT_EQ(results[static_cast<size_t>(i)].ok(), i != 7) << i;
    CrashQuery all;
    all.limit = 1000;
    auto listed = (*store)->list(all);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_EQ(listed->size(), static_cast<size_t>(kUploads));  // the first and 23 new ones
    auto record = (*store)->get(id_of(105));
    ASSERT_TRUE(record.ok() && record->has_value());
    ASSERT_EQ((*record)->annotations.size(), 1u);
    EXPECT_EQ((*record)->annotations[0].second, "p5");
}

off_t size_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The writers never checkpoint (their automatic checkpoint is far off): the database file grows
// only because the checkpointer copies the log into it.
TEST(ServiceWalCheckpointer, CopiesTheLogIntoTheDatabaseBesideTheWriter) {
    TempDir dir;
    const std::string path = dir.path + "/index.db";
    auto db = Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE(db->exec("CREATE TABLE t (n INTEGER PRIMARY KEY, text TEXT)").ok());
    for (int i = 0; i < 400; ++i) {
        auto insert = db->prepare("INSERT INTO t (n, text) VALUES (?1, ?2)");
        ASSERT_TRUE(insert.ok());
        ASSERT_TRUE(insert->bind(1, i).bind(2, std::string(1000, 'x')).run().ok());
    }
    // 400 rows of 1 KB: about 100 pages of 4 KiB.
    EXPECT_TRUE(wait_until([&] { return size_of(path) >= 90 * 4096; })) << size_of(path);
    EXPECT_GT(size_of(path + "-wal"), 0);
}

}  // namespace
}  // namespace dumpscope::service
