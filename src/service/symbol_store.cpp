#include "service/symbol_store.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "common/hex.h"
#include "elf/elf_build_id.h"
#include "elf/elf_file_contents.h"
#include "service/crash_id.h"
#include "service/private_dir.h"

namespace dumpscope::service {

namespace {

constexpr std::string_view kTempPrefix = ".upload-";

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// True if both files hold the same bytes; an error if either cannot be read.
Result<bool> same_bytes(const std::string& a, const std::string& b) {
    UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fa.valid()) return errno_error("cannot open " + a);
    UniqueFd fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fb.valid()) return errno_error("cannot open " + b);
    struct stat sa {
    }, sb{};
    if (::fstat(fa.get(), &sa) != 0) return errno_error("cannot stat " + a);
    if (::fstat(fb.get(), &sb) != 0) return errno_error("cannot stat " + b);
    if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) return true;
    if (sa.st_size != sb.st_size) return false;
    std::string ba(1 << 16, '\0'), bb(1 << 16, '\0');
    for (off_t offset = 0; offset < sa.st_size;) {
        const ssize_t na = ::pread(fa.get(), ba.data(), ba.size(), offset);
        if (na < 0) return errno_error(fmt::format("cannot read {} at offset {}", a, offset));
        if (na == 0) return false;
        size_t got = 0;
        while (got < static_cast<size_t>(na)) {
            const ssize_t nb = ::pread(fb.get(), bb.data() + got, static_cast<size_t>(na) - got,
                                       offset + static_cast<off_t>(got));
            if (nb < 0) return errno_error(fmt::format("cannot read {} at offset {}", b, offset));
            if (nb == 0) return false;
            got += static_cast<size_t>(nb);
        }
        if (ba.compare(0, got, bb, 0, got) != 0) return false;
        offset += na;
    }
    return true;
}

}  // namespace

const char* symbol_kind_name(SymbolKind kind) {
    return kind == SymbolKind::kDebuginfo ? "debuginfo" : "executable";
}

std::optional<std::string> normalized_build_id(std::string_view text) {
    if (text.size() < 8 || text.size() > 128 || text.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (!is_hex_digit(c)) return std::nullopt;
        out += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

PendingSymbolFile::PendingSymbolFile(PendingSymbolFile&& other) noexcept
    : fd_(std::move(other.fd_)),
      temp_path_(std::move(other.temp_path_)),
      size_(other.size_),
      disk_full_(other.disk_full_),
      owned_(std::exchange(other.owned_, false)) {}

PendingSymbolFile::~PendingSymbolFile() {
    if (owned_) ::unlink(temp_path_.c_str());
}

Status PendingSymbolFile::write(std::string_view bytes) {
    if (Status written = append_to_file(fd_.get(), bytes, temp_path_, size_, disk_full_);
        !written.ok()) {
        return written;
    }
    size_ += bytes.size();
    return {};
}

Status PendingSymbolFile::sync() {
    if (::fsync(fd_.get()) != 0) return errno_error("cannot sync " + temp_path_);
    return {};
}

Result<SymbolStore> SymbolStore::open(const std::string& data_dir) {
    const std::string dir = data_dir + "/symbols";
    DS_TRY(make_private_dir(dir));
    DS_TRY(make_private_dir(dir + "/.build-id"));
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) return errno_error("cannot list " + dir);
    while (dirent* entry = ::readdir(listing)) {
        const std::string_view name(entry->d_name);
        if (name.substr(0, kTempPrefix.size()) == kTempPrefix)
            ::unlinkat(::dirfd(listing), entry->d_name, 0);
    }
    ::closedir(listing);
    return SymbolStore(dir);
}

std::string SymbolStore::path_of(const std::string& build_id, SymbolKind kind) const {
    return fmt::format("{}/.build-id/{}/{}{}", dir_, build_id.substr(0, 2), build_id.substr(2),
                       kind == SymbolKind::kDebuginfo ? ".debug" : "");
}

Result<PendingSymbolFile> SymbolStore::begin() const {
    auto suffix = new_crash_id();
    if (!suffix.ok()) return suffix.error();
    std::string temp = dir_ + "/" + std::string(kTempPrefix) + *suffix;
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno_error("cannot create " + temp);
    return PendingSymbolFile(std::move(fd), std::move(temp));
}

Result<std::variant<StoredSymbols, SymbolRefusal>> SymbolStore::commit(
    PendingSymbolFile& pending, const std::string& build_id) const {
    using Answer = std::variant<StoredSymbols, SymbolRefusal>;
    if (normalized_build_id(build_id) != build_id)
        return Answer(SymbolRefusal{400, "not a build-id: " + build_id});
    DS_TRY(pending.sync());
    const std::string& temp = pending.temp_path();
    auto contents = elf_file_contents(temp);
    if (!contents.ok()) {
        return Answer(SymbolRefusal{
            415, fmt::format("the upload ({} bytes) is not an ELF file", pending.size())});
    }
    auto file_id = build_id_from_file(temp);
    if (!file_id.ok())
        return Answer(SymbolRefusal{400, "the ELF file has no build-id note (NT_GNU_BUILD_ID)"});
    const std::string actual = to_hex(*file_id);
    if (actual != build_id) {
        return Answer(SymbolRefusal{
            400, fmt::format("the ELF file's build-id is {}, not {}", actual, build_id)});
    }
    StoredSymbols stored;
    if (contents->debug_info) stored.kinds.push_back(SymbolKind::kDebuginfo);
    if (contents->code && (contents->type == ET_EXEC || contents->type == ET_DYN))
        stored.kinds.push_back(SymbolKind::kExecutable);
    if (stored.kinds.empty()) {
        return Answer(SymbolRefusal{
            400, "the ELF file has neither debug information (.debug_info) nor code"});
    }
    const std::string sub = fmt::format("{}/.build-id/{}", dir_, build_id.substr(0, 2));
    DS_TRY(make_private_dir(sub));
    for (SymbolKind kind : stored.kinds) {
        const std::string final_path = path_of(build_id, kind);
        struct stat st {};
        if (::stat(final_path.c_str(), &st) == 0) {
            auto same = same_bytes(temp, final_path);
            if (!same.ok()) return same.error();
            if (*same) continue;
        }
        // A second name for the same bytes, renamed over the old file: each name is replaced
        // atomically, and the staging name is an upload leftover if the server dies here.
        const std::string staging = temp + "." + symbol_kind_name(kind);
        if (::link(temp.c_str(), staging.c_str()) != 0)
            return errno_error(fmt::format("cannot link {} to {}", temp, staging));
        if (::rename(staging.c_str(), final_path.c_str()) != 0) {
            const Error error =
                errno_error(fmt::format("cannot rename {} to {}", staging, final_path));
            ::unlink(staging.c_str());
            return error;
        }
        stored.changed = true;
    }
    if (stored.changed) DS_TRY(sync_dir(sub));
    return Answer(std::move(stored));
}

std::optional<SymbolFileInfo> SymbolStore::find(std::string_view build_id, SymbolKind kind) const {
    const auto id = normalized_build_id(build_id);
    if (!id) return std::nullopt;
    SymbolFileInfo info;
    info.path = path_of(*id, kind);
    struct stat st {};
    if (::stat(info.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified_ms =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    return info;
}

}  // namespace dumpscope::service
