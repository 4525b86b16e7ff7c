// The symbol store's routes (docs/service.md, "Symbols"):
//   PUT /api/symbols/BUILDID            upload a debug file or a binary (the body is the file)
//   GET /api/symbols/BUILDID            what is stored for it, and the crashes that have it
//   GET /buildid/BUILDID/debuginfo      the debuginfod protocol, for gdb, debuginfod-find and
//   GET /buildid/BUILDID/executable     libdebuginfod (also with the token:
//   DEBUGINFOD_HEADERS_FILE)
// An upload that adds something re-queues the processed crashes that lacked it.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <memory>

#include "service/service_context.h"
#include "service/symbol_index.h"
#include "service/symbol_store.h"

namespace dumpscope::service {

struct SymbolService {
    SymbolStore store;
    std::unique_ptr<SymbolIndex> index;
    uint64_t max_bytes = 0;  // the largest file accepted
};

void add_symbol_routes(httplib::Server& server, ServiceContext& context, SymbolService& symbols);

}  // namespace dumpscope::service
