#include "monitor/dump_quota.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace dumpscope {

namespace {

struct DumpEntry {
    std::string name;
    uint64_t bytes = 0;  // on disk: dumps are sparse
    timespec mtime{};
};

bool is_dump_name(const std::string& name) {
    auto ends_with = [&](const std::string& suffix) {
        return name.size() > suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return name[0] != '.' && (ends_with(".dmp") || ends_with(".core") || ends_with(".dmp.zst") ||
                              ends_with(".core.zst"));
}

bool older(const DumpEntry& a, const DumpEntry& b) {
    if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
    if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
    return a.name < b.name;
}

Result<std::vector<DumpEntry>> list_dumps(const std::string& dir) {
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
    if (!listing) return errno_error("cannot list " + dir);
    std::vector<DumpEntry> dumps;
    while (dirent* e = ::readdir(listing.get())) {
        const std::string name = e->d_name;
        if (!is_dump_name(name)) continue;
        struct stat st {};
        if (::stat(fmt::format("{}/{}", dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        dumps.push_back(DumpEntry{name, static_cast<uint64_t>(st.st_blocks) * 512, st.st_mtim});
    }
    std::sort(dumps.begin(), dumps.end(), older);
    return dumps;
}

}  // namespace

Result<uint64_t> dump_usage(const std::string& dir) {
    auto dumps = list_dumps(dir);
    if (!dumps) return dumps.error();
    uint64_t total = 0;
    for (const DumpEntry& entry : *dumps) total += entry.bytes;
    return total;
}

Result<QuotaOutcome> enforce_dump_quota(const std::string& dir, uint64_t quota_bytes,
                                        const std::vector<std::string>& keep) {
    auto listed = list_dumps(dir);
    if (!listed) return listed.error();
    const std::vector<DumpEntry>& dumps = *listed;
    uint64_t total = 0;
    for (const DumpEntry& entry : dumps) total += entry.bytes;
    QuotaOutcome outcome;
    for (const DumpEntry& entry : dumps) {
        if (total <= quota_bytes) break;
        if (std::find(keep.begin(), keep.end(), entry.name) != keep.end()) continue;
        if (::unlink((dir + "/" + entry.name).c_str()) != 0) continue;
        total -= entry.bytes;
        outcome.removed.push_back(entry.name);
    }
    outcome.bytes_after = total;
    return outcome;
}

}  // namespace dumpscope
