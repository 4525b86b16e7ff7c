// What the analysis child (analysis_child.h) tells the server about one dump: the processed
// crash, or the one-line error of a dump that cannot be analysed. Sent through a pipe as records
// "NAME SIZE\n" + SIZE bytes + "\n" (format, crash_class, signature, program, json, html,
// modules; or error alone), closed by "end 0\n\n". Anything else - truncated, an unknown or
// repeated record, both kinds at once, no end - is malformed: the child did not finish.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "service/crash_store.h"

namespace dumpscope::service {

struct AnalysisAnswer {
    std::optional<ProcessedCrash> crash;  // processed
    std::string error;                    // otherwise: why the dump failed
};

std::string encode_analysis_answer(const AnalysisAnswer& answer);
Result<AnalysisAnswer> decode_analysis_answer(std::string_view bytes);

}  // namespace dumpscope::service
