#include "service/ingest.h"

#include <fmt/format.h>

#include <optional>

#include "service/crash_id.h"
#include "service/ingest_load.h"

namespace dumpscope::service {

IngestResult ingest_dump(ServiceContext& context, DumpUpload& pending, Annotations annotations) {
    // Counted from here, its body received: a client on a slow link is no load while it sends.
    std::optional<IngestLoad::Upload> storing;
    if (context.ingest_load != nullptr) storing.emplace(*context.ingest_load);
    auto id = new_crash_id();
    if (!id.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", id.error().message);
        return {500, "cannot make a crash id", ""};
    }
    if (Status committed = pending.commit(*id); !committed.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", committed.error().message);
        if (pending.store_unavailable())
            return {503, "the dump store did not take the upload: try again later", ""};
        // The upload's last buffered bytes are written here.
        if (pending.disk_full()) return {507, "the server's disk is full", ""};
        return {500, "cannot store the upload", ""};
    }
    NewCrash crash{*id, now_ms(), pending.size(), std::move(annotations)};
    if (Status inserted = context.store.insert(crash); !inserted.ok()) {
        fmt::print(stderr, "dumpscope server: {}\n", inserted.error().message);
        (void)context.dumps.remove(*id);
        return {500, "cannot record the upload", ""};
    }
    context.workers.notify();
    // Before the answer, so a client that sees its CrashID sees the store within its quota.
    if (auto retained = context.retention.enforce(); !retained.ok())
        fmt::print(stderr, "dumpscope server: retention: {}\n", retained.error().message);
    return {200, "", *id};
}

}  // namespace dumpscope::service
