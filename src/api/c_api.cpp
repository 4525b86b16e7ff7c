// The C API (<dumpscope/dumpscope.h>): thin wrappers over the C++ one, exceptions stopped at
// the boundary, errors kept per thread for dumpscope_last_error().
#include <cstring>
#include <dumpscope/dumpscope.hpp>
#include <exception>
#include <string>

#include "minidump/minidump_format.h"

namespace dumpscope {
const char* crash_handler_last_dump_path();
bool set_annotation_raw(const char* key, const char* value, const char** error);
}  // namespace dumpscope

namespace {

thread_local std::string t_last_error;

int report(const dumpscope::Outcome& outcome) {
    if (outcome.ok()) {
        t_last_error.clear();
        return 1;
    }
    t_last_error = outcome.error();
    return 0;
}

template <class F>
int guarded(F&& body) {
    try {
        return report(body());
    } catch (const std::exception& e) {
        t_last_error = std::string("internal error: ") + e.what();
    } catch (...) {
        t_last_error = "internal error";
    }
    return 0;
}

std::vector<dumpscope::UserStreamData> streams_of(const dumpscope_user_stream_information* info) {
    std::vector<dumpscope::UserStreamData> out;
    if (info == nullptr || info->UserStreamArray == nullptr) return out;
    for (uint32_t i = 0; i < info->UserStreamCount; ++i) {
        const dumpscope_user_stream& s = info->UserStreamArray[i];
        const auto* bytes = static_cast<const uint8_t*>(s.Buffer);
        out.push_back({s.Type, bytes == nullptr
                                   ? std::vector<uint8_t>()
                                   : std::vector<uint8_t>(bytes, bytes + s.BufferSize)});
    }
    return out;
}

}  // namespace

extern "C" {

int dumpscope_write_dump(pid_t pid, int fd, uint32_t dump_type,
                         const dumpscope_exception_information* exception,
                         const dumpscope_user_stream_information* user_streams,
                         const dumpscope_callback_information* callback) {
    return guarded([&] {
        dumpscope::WriteDumpOptions options;
        options.dump_type = dump_type;
        options.exception = exception;
        options.user_streams = streams_of(user_streams);
        if (callback != nullptr && callback->CallbackRoutine != nullptr) {
            const dumpscope_callback_information routine = *callback;
            options.callback = [routine](const dumpscope_callback_input& in,
                                         dumpscope_callback_output& out) {
                return routine.CallbackRoutine(routine.CallbackParam, &in, &out) != 0;
            };
        }
        return dumpscope::write_dump(pid, fd, options);
    });
}

const char* dumpscope_last_error(void) { return t_last_error.c_str(); }

int dumpscope_read_dump_stream(const void* base, size_t size, uint32_t stream_type,
                               const void** stream, uint32_t* stream_size) {
    using dumpscope::minidump::Directory;
    using dumpscope::minidump::Header;
    auto fail = [](const std::string& why) {
        t_last_error = why;
        return 0;
    };
    if (base == nullptr || stream == nullptr || stream_size == nullptr)
        return fail("dumpscope_read_dump_stream: a null pointer argument");
    const auto* bytes = static_cast<const uint8_t*>(base);
    Header header;
    if (size < sizeof header) return fail("not a minidump: shorter than its header");
    std::memcpy(&header, bytes, sizeof header);
    if (header.signature != dumpscope::minidump::kMinidumpSignature)
        return fail("not a minidump: no MDMP signature");
    const uint64_t directory_end = uint64_t{header.stream_directory_rva} +
                                   uint64_t{header.number_of_streams} * sizeof(Directory);
    if (directory_end > size) return fail("the minidump's stream directory runs past its end");
    for (uint32_t i = 0; i < header.number_of_streams; ++i) {
        Directory entry;
        std::memcpy(&entry, bytes + header.stream_directory_rva + i * sizeof(Directory),
                    sizeof entry);
        if (entry.stream_type != stream_type) continue;
        if (uint64_t{entry.location.rva} + entry.location.data_size > size)
            return fail("the stream runs past the end of the minidump");
        *stream = bytes + entry.location.rva;
        *stream_size = entry.location.data_size;
        t_last_error.clear();
        return 1;
    }
    return fail("the minidump has no stream of that type");
}

int dumpscope_crash_handler_install(const dumpscope_crash_handler_options* options) {
    return guarded([&] {
        if (options == nullptr) return dumpscope::Outcome::failure("no options");
        dumpscope::CrashHandlerOptions o;
        o.dump_dir = options->dump_dir != nullptr ? options->dump_dir : "";
        o.dump_type = options->dump_type;
        o.user_streams = streams_of(options->user_streams);
        o.upload_url = options->upload_url != nullptr ? options->upload_url : "";
        o.chain_previous_handlers = options->chain_previous_handlers != 0;
        o.handler_path = options->handler_path != nullptr ? options->handler_path : "";
        return dumpscope::CrashHandler::install(o);
    });
}

int dumpscope_crash_handler_thread_init(void) {
    return guarded([] { return dumpscope::CrashHandler::thread_init(); });
}

int dumpscope_annotation_set(const char* key, const char* value) {
    // No allocation unless it fails: the table is static.
    const char* error = nullptr;
    if (dumpscope::set_annotation_raw(key, value, &error)) return 1;
    t_last_error = error != nullptr ? error : "cannot set the annotation";
    return 0;
}

int dumpscope_write_dump_now(void) {
    return guarded([] { return dumpscope::CrashHandler::write_dump_now(); });
}

const char* dumpscope_last_dump_path(void) { return dumpscope::crash_handler_last_dump_path(); }

}  // extern "C"
