// Resumable uploads (token-checked, under /api): the agent's way to send a dump over a link that
// may drop. The dump ends in the same ingest path as POST /submit (ingest.h): same size limit,
// same annotation limits, same CrashID.
//   POST /api/uploads            {"size": N, "annotations": {"k": "v", ...}} -> 201 {id, size,
//                                received: 0}; 413 over --max-upload-mb or the annotation
//                                limits, 429 over --max-uploads-per-minute
//   GET  /api/uploads/ID         {id, size, received} and the header Upload-Offset: received
//                                (HEAD gives the header alone)
//   PUT  /api/uploads/ID         bytes at `Content-Range: bytes START-END/SIZE`: START must be
//                                `received` (409 with {received} otherwise); what arrives is kept
//                                even if the connection drops -> {id, size, received}
//   POST /api/uploads/ID/commit  once received == size: stored and queued -> {crash_id}
#pragma once

#include <httplib.h>

#include "service/service_context.h"

namespace dumpscope::service {

void add_upload_routes(httplib::Server& server, ServiceContext& context);

}  // namespace dumpscope::service
