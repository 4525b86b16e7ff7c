// The C API (<dumpscope/dumpscope.h>): thin wrappers over the C++ one, exceptions stopped at
// the boundary, errors kept per thread for dumpscope_last_error().
#include <cstring>
#include <dumpscope/dumpscope.hpp>
#include <exception>
#include <string>

#include "api_read/last_error.h"

namespace dumpscope {
const char* crash_handler_last_dump_path();
bool set_annotation_raw(const char* key, const char* value, const char** error);
}  // namespace dumpscope

namespace {

int report(const dumpscope::Outcome& outcome) {
    if (outcome.ok()) {
        dumpscope::last_error().clear();
        return 1;
    }
    dumpscope::last_error() = outcome.error();
    return 0;
}

template <class F>
int guarded(F&& body) {
    try {
        return report(body());
    } catch (const std::exception& e) {
        dumpscope::last_error() = std::string("internal error: ") + e.what();
    } catch (...) {
        dumpscope::last_error() = "internal error";
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
    dumpscope::last_error() = error != nullptr ? error : "cannot set the annotation";
    return 0;
}

int dumpscope_write_dump_now(void) {
    return guarded([] { return dumpscope::CrashHandler::write_dump_now(); });
}

const char* dumpscope_last_dump_path(void) { return dumpscope::crash_handler_last_dump_path(); }

}  // extern "C"
