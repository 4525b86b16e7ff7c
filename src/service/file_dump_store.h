// The dump store on a file system: the default (DATA/dumps) and `--store file:DIR` (DIR/dumps,
// e.g. on storage several servers share). One implementation, over DumpDirectory: uploads in a
// temporary file renamed to the crash id once complete and synced, files 0600 in a 0700
// directory, the analysis reads the stored file itself.
#pragma once

#include <memory>
#include <string>

#include "service/dump_directory.h"
#include "service/dump_store.h"

namespace dumpscope::service {

class FileDumpStore final : public DumpStore {
public:
    // DIR/dumps, creating DIR and DIR/dumps (0700) if missing. `shared`: other servers may use
    // the directory too, so only temporary files idle for an hour are removed as leftovers (an
    // upload in progress writes at least every 30 s: the server's read timeout).
    static Result<std::unique_ptr<FileDumpStore>> open(const std::string& dir, bool shared);

    std::string describe() const override { return dumps_.dir(); }
    Result<std::unique_ptr<DumpUpload>> begin() override;
    Result<LocalDump> fetch(std::string_view id) override;
    Result<uint64_t> size_of(std::string_view id) override;
    Status read(std::string_view id, uint64_t offset, uint64_t length,
                const DumpSink& sink) override;
    Status remove(std::string_view id) override { return dumps_.remove(id); }

private:
    explicit FileDumpStore(DumpDirectory dumps) : dumps_(std::move(dumps)) {}
    DumpDirectory dumps_;
};

}  // namespace dumpscope::service
