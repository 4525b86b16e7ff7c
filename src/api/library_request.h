// The collect request behind every dump the library asks for, in-process or through the
// helper: MINIDUMP_TYPE bits as a custom plan, the user streams, the exception, the annotations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "common/result.h"
#include "output/dump_content.h"

namespace dumpscope {

// Checks the bits (unknown ones are an error, naming them) and the user streams' types.
Result<PlanOptions> library_plan(uint32_t dump_type, std::vector<UserStream> user_streams,
                                 std::shared_ptr<PlanCallbacks> callbacks);

// Where the exception comes from: addresses in the target (siginfo_t, ucontext_t), or bytes.
struct ExceptionSource {
    int32_t tid = 0;
    uint64_t siginfo_address = 0;
    uint64_t ucontext_address = 0;
    std::vector<uint8_t> siginfo;   // used instead of the address when not empty
    std::vector<uint8_t> ucontext;  // same
};

// A before_plan step (CollectRequest::before_plan): adds the exception when `exception.tid` is
// set, and the annotation table at `annotations_address` (if not 0) as a user stream.
std::function<Status(Snapshot&, PlanOptions&)> library_before_plan(ExceptionSource exception,
                                                                   uint64_t annotations_address);

}  // namespace dumpscope
