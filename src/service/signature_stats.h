// The signature summaries (schema migration 7): per signature of the processed crashes their
// count, first and last time (signature_stats), programs (signature_programs), versions (the `ver`
// and `version` annotations, signature_versions), crash classes (signature_classes) and UTC days
// (signature_days, day = received_at / 86400000), each with how many crashes. Kept exact by
// CrashStore: every statement that makes a crash `processed`, or changes or deletes a processed
// one, applies its contribution in the same transaction (add after it became processed, subtract
// after it stopped being). A row whose count reaches 0 is deleted. So the list pages read a few
// rows, not every crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/database.h"

namespace dumpscope::service {

// What one processed crash adds to the summaries.
struct SignatureContribution {
    std::string signature;
    std::optional<std::string> program;
    std::optional<std::string> crash_class;
    int64_t received_ms = 0;
    std::vector<std::string> versions;  // one per `ver` / `version` annotation
};

// The contribution of crash `id`: nullopt unless it is `processed` with a signature.
Result<std::optional<SignatureContribution>> processed_contribution(Database& db,
                                                                    const std::string& id);

Status add_contribution(Database& db, const SignatureContribution& crash);

// After the crash stopped being `processed` (or was deleted): its counts go down, rows at 0 go,
// and the signature's first/last time are recomputed from its remaining processed crashes.
Status subtract_contribution(Database& db, const SignatureContribution& crash);

// The day (signature_days.day) of a time: ms / 86400000, as the SQL backfill computes it.
inline int64_t signature_day(int64_t ms) { return ms / 86400000; }

}  // namespace dumpscope::service
