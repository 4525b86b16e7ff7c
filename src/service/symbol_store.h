// The symbol store under --data: debug files and binaries by build-id, laid out as a .build-id
// directory (as /usr/lib/debug is), so the analysis reads it as one more --symbols directory:
//   DATA/symbols/.build-id/xx/rest.debug   debug information (a .debug file, an unstripped binary)
//   DATA/symbols/.build-id/xx/rest         the binary itself (stripped or not)
// An unstripped binary is both (two hard links to one file). Files are 0600 in 0700
// directories. An upload is written to DATA/symbols/.upload-<random> and put in place by rename
// only once complete, synced and checked (an ELF file whose build-id note is the one named), so a
// stored file is never half-written; leftovers of a killed server are removed at start-up. Paths
// are made from validated build-ids only (normalized_build_id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace dumpscope::service {

enum class SymbolKind { kDebuginfo, kExecutable };

// "debuginfo", "executable": the debuginfod protocol's names.
const char* symbol_kind_name(SymbolKind kind);

// The build-id as lowercase hex if `text` is one: an even number of hex digits, 8 to 128 of them
// (4 to 64 bytes); nullopt otherwise.
std::optional<std::string> normalized_build_id(std::string_view text);

class PendingSymbolFile {
public:
    PendingSymbolFile(UniqueFd fd, std::string temp_path)
        : fd_(std::move(fd)), temp_path_(std::move(temp_path)) {}
    PendingSymbolFile(PendingSymbolFile&& other) noexcept;
    PendingSymbolFile& operator=(PendingSymbolFile&&) = delete;
    PendingSymbolFile(const PendingSymbolFile&) = delete;
    PendingSymbolFile& operator=(const PendingSymbolFile&) = delete;
    ~PendingSymbolFile();  // removes the temporary file

    Status write(std::string_view bytes);
    uint64_t size() const { return size_; }
    // The last write failed because the file system is full (ENOSPC, EDQUOT).
    bool disk_full() const { return disk_full_; }
    const std::string& temp_path() const { return temp_path_; }
    Status sync();

private:
    UniqueFd fd_;
    std::string temp_path_;
    uint64_t size_ = 0;
    bool disk_full_ = false;
    bool owned_ = true;
};

// The upload is not a file to store: the client's fault (an HTTP status and why).
struct SymbolRefusal {
    int status = 400;
    std::string message;
};

struct StoredSymbols {
    std::vector<SymbolKind> kinds;  // what the file serves as
    bool changed = false;  // a kind was absent or held other bytes (false: the same upload again)
};

struct SymbolFileInfo {
    std::string path;
    uint64_t size = 0;
    int64_t modified_ms = 0;
};

class SymbolStore {
public:
    // Creates DATA/symbols and DATA/symbols/.build-id (0700) and removes leftover uploads.
    static Result<SymbolStore> open(const std::string& data_dir);

    // DATA/symbols: the directory the analysis searches (SymbolOptions::symbol_dirs).
    const std::string& dir() const { return dir_; }
    Result<PendingSymbolFile> begin() const;
    // Syncs the uploaded file, checks it against `build_id` (normalized) and puts it in place
    // under each kind it serves as, replacing a different file of that kind. A refusal when it is
    // not an ELF file (415), has no build-id note or another one, or holds neither code nor debug
    // information (400); an error when the file system fails.
    Result<std::variant<StoredSymbols, SymbolRefusal>> commit(PendingSymbolFile& pending,
                                                              const std::string& build_id) const;
    // The stored file of that kind, or nullopt (also for anything that is not a build-id).
    std::optional<SymbolFileInfo> find(std::string_view build_id, SymbolKind kind) const;

private:
    explicit SymbolStore(std::string dir) : dir_(std::move(dir)) {}
    // DATA/symbols/.build-id/xx/rest[.debug] of a normalized build-id.
    std::string path_of(const std::string& build_id, SymbolKind kind) const;

    std::string dir_;
};

}  // namespace dumpscope::service
