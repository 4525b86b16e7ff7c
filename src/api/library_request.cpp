#include "api/library_request.h"

#include <dumpscope/dumpscope.h>
#include <fmt/format.h>

#include "api/signal_exception.h"
#include "api_read/annotation_table.h"
#include "arch/x86_64.h"
#include "plan/dump_flags.h"

namespace dumpscope {

// The public header's MINIDUMP_TYPE values are the table's (plan/dump_flags.def).
#define DS_DUMP_FLAG(name, value, linux_meaning, description) \
    static_assert(uint32_t{MiniDump##name} == (value), "MiniDump" #name);
#include "plan/dump_flags.def"
#undef DS_DUMP_FLAG

Result<PlanOptions> library_plan(uint32_t dump_type, std::vector<UserStream> user_streams,
                                 std::shared_ptr<PlanCallbacks> callbacks) {
    uint32_t known = 0;
    for (const DumpFlagInfo& flag : all_dump_flags()) known |= flag.value;
    if ((dump_type & ~known) != 0)
        return Error{fmt::format("dump type {:#x} has bits no MINIDUMP_TYPE defines ({:#x})",
                                 dump_type, dump_type & ~known)};
    for (const UserStream& stream : user_streams) {
        if (stream.type <= 0xffff)
            return Error{
                fmt::format("user stream type {:#x} is in the range reserved for "
                            "Microsoft's streams (types must be above 0xffff)",
                            stream.type)};
    }
    PlanOptions options;
    options.type_name = "custom";
    options.flags = dump_type;
    options.user_streams = std::move(user_streams);
    options.callbacks = std::move(callbacks);
    return options;
}

std::function<Status(Snapshot&, PlanOptions&)> library_before_plan(ExceptionSource exception,
                                                                   uint64_t annotations_address) {
    return [exception = std::move(exception), annotations_address](Snapshot& snapshot,
                                                                   PlanOptions& plan) -> Status {
        if (exception.tid != 0) {
            std::vector<uint8_t> siginfo = exception.siginfo;
            std::vector<uint8_t> ucontext = exception.ucontext;
            if (siginfo.empty()) {
                auto read = read_exact(snapshot, exception.siginfo_address, 128, "siginfo_t");
                if (!read.ok()) return read.error();
                siginfo = std::move(*read);
            }
            if (ucontext.empty()) {
                auto read = read_exact(snapshot, exception.ucontext_address,
                                       arch::x86_64::ucontext_size(), "ucontext_t");
                if (!read.ok()) return read.error();
                ucontext = std::move(*read);
            }
            DS_TRY(add_signal_exception(snapshot, exception.tid, siginfo, ucontext));
        }
        if (annotations_address != 0 && snapshot.memory) {
            std::vector<uint8_t> table(sizeof(AnnotationTable));
            auto got = snapshot.memory->read(annotations_address, table);
            if (!got.ok() || *got != table.size())
                return Error{
                    fmt::format("cannot read the annotation table at {:#x}", annotations_address)};
            auto annotations = read_annotation_table(table);
            if (!annotations.ok()) return annotations.error();
            plan.user_streams.push_back(
                UserStream::of(kAnnotationsStreamType, encode_annotations_stream(*annotations)));
        }
        return {};
    };
}

}  // namespace dumpscope
