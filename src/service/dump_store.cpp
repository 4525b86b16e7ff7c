#include "service/dump_store.h"

#include <unistd.h>

#include <utility>

#include "service/file_dump_store.h"
#include "service/s3_dump_store.h"

namespace dumpscope::service {

LocalDump::LocalDump(LocalDump&& other) noexcept
    : path_(std::move(other.path_)), temporary_(std::exchange(other.temporary_, false)) {}

LocalDump::~LocalDump() {
    if (temporary_) ::unlink(path_.c_str());
}

Result<std::unique_ptr<DumpStore>> open_dump_store(const std::string& url,
                                                   const std::string& data_dir) {
    auto opened = [](auto store) -> Result<std::unique_ptr<DumpStore>> {
        if (!store.ok()) return store.error();
        return std::unique_ptr<DumpStore>(std::move(*store));
    };
    if (url.empty()) return opened(FileDumpStore::open(data_dir, false));
    if (url.rfind("file:", 0) == 0) {
        std::string dir = url.substr(5);
        if (dir.rfind("///", 0) == 0) dir = dir.substr(2);  // file:///srv/dumps
        if (dir.empty()) return Error{"--store " + url + ": expected file:DIRECTORY"};
        return opened(FileDumpStore::open(dir, true));
    }
    if (url.rfind("s3://", 0) == 0) return opened(S3DumpStore::open(url, data_dir));
    return Error{"--store " + url + ": expected file:/DIR or s3://BUCKET?endpoint=URL&region=R"};
}

}  // namespace dumpscope::service
