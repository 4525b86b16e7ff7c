// The agent's resumable upload (upload_routes.h): create the upload, PUT the file in chunks with
// Content-Range, and after a failed request (a dropped connection, a timeout) ask the server how
// many bytes it has (GET /api/uploads/ID) and go on from there; then commit, which gives the
// crash id. Refusals (413, 507, 400 ...) end it at once; connection failures are retried with a
// growing pause (up to 30 in a row).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "service/agent_connection.h"

namespace dumpscope::service {

struct UploadOutcome {
    std::string crash_id;
    int resumes = 0;  // requests that failed and were resumed
};

Result<UploadOutcome> upload_resumable(
    const AgentConnection& connection, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& annotations, uint64_t chunk_bytes,
    const std::atomic<bool>& stopping);

}  // namespace dumpscope::service
