// `POST /submit`: Breakpad's and Crashpad's upload protocol, as Socorro's collector takes it.
// multipart/form-data (optionally with Content-Encoding: gzip, undone by cpp-httplib), the dump
// in the `upload_file_minidump` part (a minidump, an ELF core, or either compressed with zstd or
// gzip: the readers recognise them by content), every other part an annotation. The dump is
// streamed to a temporary file and renamed to its new random id once complete; the crash is then
// queued and the answer is `CrashID=<id>` (text/plain). No token: crash reporters send none.
// Errors: 400 (not multipart, no or empty dump part, malformed body), 413 (over the limit, counted
// after decompression), 429 (more uploads per minute from one client address than
// --max-uploads-per-minute, with Retry-After), 507 (disk full), 500 (database).
#pragma once

#include <httplib.h>

#include "service/service_context.h"

namespace dumpscope::service {

void handle_submit(ServiceContext& context, const httplib::Request& request,
                   httplib::Response& response, const httplib::ContentReader& reader);

}  // namespace dumpscope::service
