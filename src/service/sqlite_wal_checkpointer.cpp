#include "service/sqlite_wal_checkpointer.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

namespace dumpscope::service {

Result<std::shared_ptr<WalCheckpointer>> WalCheckpointer::of(const std::string& path,
                                                             int period_ms) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<WalCheckpointer>> registry;
    std::lock_guard registry_lock(registry_mutex);
    if (auto running = registry[path].lock()) return running;
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        Error error{fmt::format("cannot open the database {} to checkpoint it: {}", path,
                                db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
        sqlite3_close(db);
        return error;
    }
    sqlite3_busy_timeout(db, 10000);
    // A connection knows the database is in WAL mode, and checkpoints it, only once it has read
    // it: until then sqlite3_wal_checkpoint_v2 does nothing and says SQLITE_OK.
    char* message = nullptr;
    if (sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, &message) != SQLITE_OK) {
        Error error{fmt::format("cannot read the database {} to checkpoint it: {}", path,
                                message != nullptr ? message : sqlite3_errmsg(db))};
        sqlite3_free(message);
        sqlite3_close(db);
        return error;
    }
    std::shared_ptr<WalCheckpointer> started(new WalCheckpointer(db, period_ms));
    registry[path] = started;
    return started;
}

WalCheckpointer::WalCheckpointer(sqlite3* db, int period_ms)
    : db_(db), period_ms_(period_ms), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    sqlite3_close_v2(db_);
}

void WalCheckpointer::run() {
    bool reported = false;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, std::chrono::milliseconds(period_ms_));
        if (stopping_) break;
        lock.unlock();
        const int rc =
            sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
        if (rc == SQLITE_OK) {
            reported = false;
        } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && !reported) {
            // Once per run of failures; the writers' own automatic checkpoint is the backstop.
            fmt::print(stderr, "dumpscope server: cannot checkpoint {}: {}\n",
                       sqlite3_db_filename(db_, "main"), sqlite3_errmsg(db_));
            reported = true;
        }
    }
}

}  // namespace dumpscope::service
