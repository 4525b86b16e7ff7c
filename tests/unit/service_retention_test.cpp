// Retention (docs/service.md): which crashes the quota and the per-signature cap choose, on
// records alone (retention_policy.h); and the store's side of a deletion (row and annotations
// gone in one transaction, a crash being processed kept).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/crash_store.h"
#include "service/retention_policy.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

// "a" + std::to_string(i), without g++ 12's false -Wrestrict on operator+ at -O3.
std::string numbered(const char* prefix, int i) {
    std::string name(prefix);
    name += std::to_string(i);
    return name;
}

using test_files::TempDir;

RetentionRecord processed(const std::string& id, int64_t at, const std::string& signature,
                          uint64_t size = 100) {
    return RetentionRecord{id, "processed", at, size, signature};
}

RetentionRecord other(const std::string& id, int64_t at, const std::string& status,
                      uint64_t size = 100) {
    return RetentionRecord{id, status, at, size, std::nullopt};
}

std::vector<std::string> ids(const std::vector<RetentionChoice>& chosen) {
    std::vector<std::string> out;
    for (const RetentionChoice& c : chosen) out.push_back(c.id);
    return out;
}

TEST(ServiceRetention, NothingWithoutAQuotaOrACap) {
    std::vector<RetentionRecord> crashes;
    for (int i = 0; i < 20; ++i) crashes.push_back(processed(numbered("a", i), i, "f"));
    EXPECT_TRUE(choose_deletions(crashes, RetentionPolicy{}).empty());
}

TEST(ServiceRetention, QuotaDeletesTheOldestOutsideTheFirstAndLastOfEachSignature) {
    // f: a0..a5, g: b0..b2, then a failed and a queued crash; 100 bytes each, 1100 in all.
    std::vector<RetentionRecord> crashes = {
        processed("a0", 1, "f"),   processed("a1", 2, "f"), processed("b0", 3, "g"),
        processed("a2", 4, "f"),   processed("a3", 5, "f"), processed("b1", 6, "g"),
        processed("a4", 7, "f"),   processed("a5", 8, "f"), other("x0", 9, "failed"),
        other("q0", 10, "queued"), processed("b2", 11, "g")};
    RetentionPolicy policy;
    policy.quota_bytes = 700;
    // Protected: a0 a1 (first of f), a4 a5 (last of f), all of g (3 <= 2 + 2). Deletable oldest
    // first: a2, a3, x0, q0; 4 must go to come down to 700.
    EXPECT_EQ(ids(choose_deletions(crashes, policy)),
              (std::vector<std::string>{"a2", "a3", "x0", "q0"}));
    for (const RetentionChoice& c : choose_deletions(crashes, policy))
        EXPECT_STREQ(c.reason, "quota");

    // Only as many as needed: 1000 bytes allowed, one goes.
    policy.quota_bytes = 1000;
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"a2"}));
    // Within the quota: none.
    policy.quota_bytes = 1100;
    EXPECT_TRUE(choose_deletions(crashes, policy).empty());
    // A quota nothing can meet deletes every unprotected crash and stops there.
    policy.quota_bytes = 1;
    EXPECT_EQ(ids(choose_deletions(crashes, policy)),
              (std::vector<std::string>{"a2", "a3", "x0", "q0"}));
}

TEST(ServiceRetention, QuotaWeighsSizesAndNeverTakesACrashBeingProcessed) {
    std::vector<RetentionRecord> crashes = {other("p0", 1, "processing", 5000),
                                            other("x0", 2, "failed", 3000),
                                            other("x1", 3, "failed", 10), other("q0", 4, "queued")};
    RetentionPolicy policy;
    policy.quota_bytes = 5200;
    // 8110 in all; p0 is being processed, so x0 (3000) is enough to come under 5200.
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"x0"}));
    policy.quota_bytes = 4000;
    // p0 still counts: all the others go and the store stays over the quota.
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"x0", "x1", "q0"}));
}

TEST(ServiceRetention, SignatureCapDeletesTheOldestBeyondItKeepingTheFirstFew) {
    std::vector<RetentionRecord> crashes;
    for (int i = 0; i < 6; ++i) crashes.push_back(processed(numbered("a", i), i, "f"));
    crashes.push_back(processed("b0", 10, "g"));
    crashes.push_back(other("x0", 11, "failed"));  // no signature: no cap
    crashes.push_back(other("x1", 12, "failed"));
    RetentionPolicy policy;
    policy.max_per_signature = 3;
    policy.keep_first = 1;
    // f has 6, 3 go: the oldest after the first one.
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"a1", "a2", "a3"}));
    for (const RetentionChoice& c : choose_deletions(crashes, policy))
        EXPECT_STREQ(c.reason, "signature cap");
    // keep_first above the cap wins: the first 4 stay, the 2 newest go.
    policy.keep_first = 4;
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"a4", "a5"}));
    // A queued crash has no signature yet, a processing one neither: not capped.
    crashes[5].status = "processing";
    crashes[5].signature.reset();
    policy.keep_first = 1;
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"a1", "a2"}));
}

TEST(ServiceRetention, CapAndQuotaTogetherAreOldestFirstAndBounded) {
    std::vector<RetentionRecord> crashes;
    for (int i = 0; i < 10; ++i) crashes.push_back(other(numbered("x", i), i, "failed"));
    for (int i = 0; i < 5; ++i) crashes.push_back(processed(numbered("a", i), 20 + i, "f"));
    RetentionPolicy policy;
    policy.max_per_signature = 4;  // a2 goes (a0, a1 are the first two, kept)
    policy.quota_bytes = 1000;     // 1500 in all, 1400 after the cap: 4 failed ones go
    EXPECT_EQ(ids(choose_deletions(crashes, policy)),
              (std::vector<std::string>{"x0", "x1", "x2", "x3", "a2"}));
    policy.max_deletions = 3;
    EXPECT_EQ(ids(choose_deletions(crashes, policy)), (std::vector<std::string>{"x0", "x1", "x2"}));
}

TEST(ServiceRetention, StoreRemovesTheRowAndAnnotationsButNotACrashBeingProcessed) {
    TempDir dir;
    auto opened = CrashStore::open(dir.path + "/crashes.db");
    ASSERT_TRUE(opened.ok());
    CrashStore& store = **opened;
    const std::string a(32, 'a'), b(32, 'b');
    ASSERT_TRUE(store.insert(NewCrash{a, 1000, 10, {{"prod", "p"}}}).ok());
    ASSERT_TRUE(store.insert(NewCrash{b, 2000, 20, {{"ver", "1"}}}).ok());
    auto job = store.claim_next();  // a: processing
    ASSERT_TRUE(job.ok() && job->has_value());
    ASSERT_EQ((*job)->id, a);

    auto records = store.retention_records();
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(records->size(), 2u);
    EXPECT_EQ((*records)[0].id, a);
    EXPECT_EQ((*records)[0].status, "processing");
    EXPECT_EQ((*records)[1].dump_size, 20u);

    EXPECT_FALSE(*store.remove(a));
    EXPECT_TRUE((*store.get(a)).has_value());
    EXPECT_TRUE(*store.remove(b));
    EXPECT_FALSE((*store.get(b)).has_value());
    EXPECT_FALSE(*store.remove(b));
    // Its annotations went with it: a new crash under the same id starts without them.
    ASSERT_TRUE(store.insert(NewCrash{b, 3000, 20, {}}).ok());
    EXPECT_TRUE((*store.get(b))->annotations.empty());
}

}  // namespace
}  // namespace dumpscope::service
