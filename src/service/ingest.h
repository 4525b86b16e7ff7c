// The end of every upload (POST /submit and the resumable uploads of upload_routes.h): a
// complete dump in a DumpUpload gets a new random crash id, is renamed to it, recorded with its
// annotations and queued; retention runs before the answer. One path, so both take the same
// limits and give the same CrashID.
#pragma once

#include <cstddef>
#include <string>

#include "service/crash_store.h"
#include "service/dump_store.h"
#include "service/service_context.h"

namespace dumpscope::service {

// Annotations of one upload: at most this many, and this many bytes in all (names and values).
inline constexpr size_t kMaxAnnotations = 256;
inline constexpr size_t kMaxAnnotationBytes = 1 << 20;

struct IngestResult {
    int status = 500;      // 200 when stored
    std::string message;   // what went wrong, for the client ("" when stored)
    std::string crash_id;  // when stored
};

IngestResult ingest_dump(ServiceContext& context, DumpUpload& pending, Annotations annotations);

}  // namespace dumpscope::service
