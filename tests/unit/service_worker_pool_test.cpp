// The workers make way for a busy ingest (ingest_load.h): while enough uploads are being stored,
// a queued crash is not taken; once they are stored, it is. The analysis program is /bin/true,
// which answers nothing: the crash then fails, which shows that it was taken.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "service/crash_store.h"
#include "service/file_dump_store.h"
#include "service/ingest_load.h"
#include "service/retention.h"
#include "service/worker_pool.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

std::string status_of(CrashStore& store, const std::string& id) {
    auto record = store.get(id);
    return record.ok() && record->has_value() ? (*record)->status : "?";
}

TEST(ServiceWorkerPool, WaitsWhileUploadsAreBeingStoredAndNotAfter) {
    TempDir dir;
    auto store = CrashStore::open(dir.path + "/index.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto dumps = FileDumpStore::open(dir.path + "/data", false);
    ASSERT_TRUE(dumps.ok()) << dumps.error().message;
    const std::string id(32, 'c');
    {
        auto upload = (*dumps)->begin();
        ASSERT_TRUE(upload.ok());
        ASSERT_TRUE((*upload)->write("MDMP").ok());
        ASSERT_TRUE((*upload)->commit(id).ok());
    }
    ASSERT_TRUE((*store)->insert(NewCrash{id, 1, 4, {}}).ok());

    IngestLoad load(2);
    std::optional<IngestLoad::Upload> first(std::in_place, load), second(std::in_place, load);
    EXPECT_TRUE(load.busy());
    Retention retention(**store, **dumps, RetentionPolicy{});
    AnalysisRun run;
    run.program = "/bin/true";
    WorkerPool workers(**store, **dumps, retention, run, 1, &load);
    workers.start(1);
    workers.notify();
    // Not taken while two uploads are being stored (the worker polls every 100 ms).
    for (int i = 0; i < 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_EQ(status_of(**store, id), "queued");
    }
    second.reset();  // one left: below the threshold
    EXPECT_FALSE(load.busy());
    std::string status;
    for (int i = 0; i < 1000 && (status = status_of(**store, id)) != "failed"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(status, "failed");
    workers.stop();
}

TEST(ServiceIngestLoad, BusyFromTheThresholdAndNeverWithZero) {
    IngestLoad load(2);
    EXPECT_EQ(load.storing(), 0);
    {
        IngestLoad::Upload a(load);
        EXPECT_FALSE(load.busy());
        IngestLoad::Upload b(load);
        EXPECT_TRUE(load.busy());
        EXPECT_EQ(load.storing(), 2);
    }
    EXPECT_EQ(load.storing(), 0);
    EXPECT_FALSE(load.busy());
    IngestLoad never(0);
    IngestLoad::Upload a(never), b(never), c(never);
    EXPECT_FALSE(never.busy());
    EXPECT_GE(IngestLoad::default_busy_at(), 8);
}

}  // namespace
}  // namespace dumpscope::service
