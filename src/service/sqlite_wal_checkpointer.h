// Checkpoints an SQLite database's write-ahead log from a thread and connection of its own, so
// that no writer's COMMIT pays for one. SQLite's automatic checkpoint runs inside the COMMIT that
// takes the log past 1000 pages: under 50 uploaders that made one upload in a thousand wait up to
// a second (bench/RESULTS.md). PASSIVE checkpoints never block a writer or a reader.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"

struct sqlite3;

namespace dumpscope::service {

class WalCheckpointer {
public:
    // The checkpointer of the database at `path` (which must exist and be in WAL mode): one per
    // path in the process, however many connections share it, started by the first caller with
    // a connection of its own, checkpointing every `period_ms`, stopped with the last holder.
    static Result<std::shared_ptr<WalCheckpointer>> of(const std::string& path, int period_ms);
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;
    ~WalCheckpointer();  // stops the thread and closes its connection

private:
    WalCheckpointer(sqlite3* db, int period_ms);
    void run();

    sqlite3* db_;
    const int period_ms_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace dumpscope::service
