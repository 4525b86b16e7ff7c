// The JSON API under /api (docs/service.md). Every route needs `Authorization: Bearer TOKEN`
// (401 otherwise, checked before routing so unknown /api paths answer 401 too). Crash ids in
// paths are checked for their format before anything is looked up: anything else is 404.
//   GET  /api/crashes/ID            the crash: status, signature, program, annotations, analysis
//   GET  /api/crashes?signature=&program=&class=&limit=   newest first
//   GET  /api/signatures?limit=     top crashers
//   POST /api/crashes/ID/reprocess  back to the queue
//   GET  /api/crashes/ID/dump       the dump as uploaded
#pragma once

#include <httplib.h>

#include "service/service_context.h"

namespace dumpscope::service {

void add_api_routes(httplib::Server& server, ServiceContext& context);
// 401 for a request under /api without the token; true if it answered.
bool refuse_unauthorized_api(const ServiceContext& context, const httplib::Request& request,
                             httplib::Response& response);

}  // namespace dumpscope::service
