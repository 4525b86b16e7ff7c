// The symbol store and the build-id index without a server: build-ids checked before they name a
// path, uploads checked (ELF, build-id, contents) and placed by kind, 0600, idempotent, leftovers
// removed; the index's re-queue candidates (processed crashes whose module lacked DWARF), and its
// rows deleted with their crash.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "common/hex.h"
#include "elf/elf_build_id.h"
#include "service/crash_store.h"
#include "service/symbol_index.h"
#include "service/symbol_store.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

TEST(ServiceSymbolStore, BuildIdsAreEvenHexOf8To128DigitsLowercased) {
    EXPECT_EQ(normalized_build_id("0123abcd"), "0123abcd");
    EXPECT_EQ(normalized_build_id("0123ABCD"), "0123abcd");
    EXPECT_EQ(normalized_build_id(std::string(128, 'f')), std::string(128, 'f'));
    EXPECT_FALSE(normalized_build_id(std::string(130, 'f')));
    EXPECT_FALSE(normalized_build_id("0123abc"));    // 7
    EXPECT_FALSE(normalized_build_id("0123abcde"));  // odd
    EXPECT_FALSE(normalized_build_id("0123abcg"));
    EXPECT_FALSE(normalized_build_id("../../etc"));
    EXPECT_FALSE(normalized_build_id(std::string("0123abc\0", 8)));
    EXPECT_FALSE(normalized_build_id(""));
}

// Writes `bytes` as an upload and commits it under `id`.
Result<std::variant<StoredSymbols, SymbolRefusal>> upload(const SymbolStore& store,
                                                          const std::vector<uint8_t>& bytes,
                                                          const std::string& id) {
    auto pending = store.begin();
    if (!pending.ok()) return pending.error();
    DS_TRY(pending->write({reinterpret_cast<const char*>(bytes.data()), bytes.size()}));
    return store.commit(*pending, id);
}

TEST(ServiceSymbolStore, AnUnstrippedBinaryIsStoredAsBothKindsOnceAndOthersAreRefused) {
    TempDir data;
    ASSERT_EQ(::mkdir((data.path + "/symbols").c_str(), 0700), 0);
    test_files::save(data.path + "/symbols/.upload-left-behind", {1, 2, 3});
    auto store = SymbolStore::open(data.path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    struct stat st {};
    EXPECT_NE(::stat((data.path + "/symbols/.upload-left-behind").c_str(), &st), 0);

    const std::string binary = std::string(DUMPSCOPE_FIXTURE_DIR) + "/fixture_healthy";
    auto raw_id = build_id_from_file(binary);
    ASSERT_TRUE(raw_id.ok());
    const std::string id = to_hex(*raw_id);
    const std::vector<uint8_t> bytes = test_files::load(binary);

    auto stored = upload(*store, bytes, id);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    const auto* first = std::get_if<StoredSymbols>(&*stored);
    ASSERT_NE(first, nullptr);
    EXPECT_TRUE(first->changed);
    EXPECT_EQ(first->kinds,
              (std::vector<SymbolKind>{SymbolKind::kDebuginfo, SymbolKind::kExecutable}));
    for (SymbolKind kind : first->kinds) {
        const auto file = store->find(id, kind);
        ASSERT_TRUE(file.has_value()) << symbol_kind_name(kind);
        EXPECT_EQ(file->size, bytes.size());
        EXPECT_EQ(test_files::load(file->path), bytes);
        ASSERT_EQ(::stat(file->path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u);
    }
    EXPECT_EQ(store->find(id, SymbolKind::kDebuginfo)->path,
              data.path + "/symbols/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug");

    auto again = upload(*store, bytes, id);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(std::get<StoredSymbols>(*again).changed);

    const auto refusal = [&](const std::vector<uint8_t>& body, const std::string& as) {
        auto r = upload(*store, body, as);
        EXPECT_TRUE(r.ok());
        const auto* refused = r.ok() ? std::get_if<SymbolRefusal>(&*r) : nullptr;
        return refused != nullptr ? *refused : SymbolRefusal{0, ""};
    };
    EXPECT_EQ(refusal({'h', 'i'}, id).status, 415);
    const SymbolRefusal other = refusal(bytes, std::string(40, 'a'));
    EXPECT_EQ(other.status, 400);
    EXPECT_NE(other.message.find(id), std::string::npos) << other.message;
    EXPECT_EQ(refusal(bytes, "../../x").status, 400);

    EXPECT_FALSE(store->find("../../x", SymbolKind::kDebuginfo));
    EXPECT_FALSE(store->find(std::string(40, 'a'), SymbolKind::kExecutable));
    // Nothing of the refused uploads is left: no upload file, no directory for their ids.
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(data.path + "/symbols"))
        names.push_back(e.path().filename());
    EXPECT_EQ(names, std::vector<std::string>{".build-id"});
    EXPECT_NE(::stat((data.path + "/symbols/.build-id/aa").c_str(), &st), 0);
}

TEST(ServiceSymbolIndex, ProcessedCrashesLackingDwarfForABuildIdAreTheOnesToRequeue) {
    TempDir data;
    const std::string db = data.path + "/crashes.db";
    auto store = CrashStore::open(db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto index = SymbolIndex::open(db);
    ASSERT_TRUE(index.ok()) << index.error().message;
    const std::string a(32, 'a'), b(32, 'b');
    const std::string app(40, '1'), libc(40, '2');
    for (const std::string& id : {a, b}) {
        ASSERT_TRUE((*store)->insert(NewCrash{id, id == a ? 1 : 2, 10, {}}).ok());
        auto job = (*store)->claim_next();
        ASSERT_TRUE(job.ok() && job->has_value());
        ProcessedCrash done;
        done.signature = "s";
        ASSERT_TRUE((*store)->finish_processed(**job, done).ok());
    }
    ASSERT_TRUE((*index)->record(a, {{app, "app", "none"}, {libc, "libc.so.6", "dwarf"}}).ok());
    ASSERT_TRUE((*index)->record(b, {{app, "app", "symtab"}, {"", "nameless", "none"}}).ok());

    EXPECT_EQ(*(*index)->crashes_lacking(app), (std::vector<std::string>{a, b}));
    EXPECT_EQ(*(*index)->crashes_lacking(libc), std::vector<std::string>{});
    EXPECT_EQ(*(*index)->crashes_with(app, 10), (std::vector<std::string>{b, a}));
    EXPECT_EQ(*(*index)->crashes_with(app, 1), std::vector<std::string>{b});

    // Recorded again after a reprocess: the new rows replace the old ones.
    ASSERT_TRUE((*index)->record(a, {{app, "app", "dwarf"}}).ok());
    EXPECT_EQ(*(*index)->crashes_lacking(app), std::vector<std::string>{b});
    EXPECT_EQ(*(*index)->crashes_with(libc, 10), std::vector<std::string>{});
    // A queued crash is not a candidate (it will be processed anyway).
    ASSERT_TRUE(*(*store)->requeue(b));
    EXPECT_EQ(*(*index)->crashes_lacking(app), std::vector<std::string>{});
    // Rows go with their crash.
    ASSERT_TRUE(*(*store)->remove(a));
    EXPECT_EQ(*(*index)->crashes_with(app, 10), std::vector<std::string>{b});
}

}  // namespace
}  // namespace dumpscope::service
