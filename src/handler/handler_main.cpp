// dumpscope-handler: the helper the library starts (libexec/dumpscope/). It dumps the library's
// process from outside with the collect engine, as crashpad_handler does for Crashpad.
//   dumpscope-handler write   one dump for dumpscope_write_dump(getpid(), ...): settings on
//                             fd 5, the dump into fd 4, callbacks asked over fd 3
//   dumpscope-handler crash   the crash handler's helper: waits on fd 4 for a crash and on
//                             fd 3 for dump-now requests, until the process goes away
// Not for people: the library passes everything through descriptors (src/api/handler_wire.h).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "api/handler_settings.h"
#include "api/handler_wire.h"
#include "api/library_request.h"
#include "api/routine_callbacks.h"
#include "capture/collect_job.h"
#include "monitor/dump_upload.h"

namespace dumpscope {
namespace {

void send_done(int fd, bool ok, const std::string& text) {
    wire::Message done;
    done.kind = wire::Kind::kDone;
    done.result = ok ? 1 : 0;
    done.set_text(text);
    (void)wire::send_message(fd, done);
}

// The routine, called in the library's process: one kCallback, one kCallbackDone.
RoutineCall remote_call(int channel) {
    return [channel](const dumpscope_callback_input& input,
                     dumpscope_callback_output& output) -> Result<bool> {
        wire::Message message;
        message.kind = wire::Kind::kCallback;
        message.input = input;
        message.output = output;
        if (input.CallbackType == ModuleCallback) {
            message.input.Module.FullPath = nullptr;
            message.input.Module.BuildId = nullptr;
            message.set_text(input.Module.FullPath != nullptr ? input.Module.FullPath : "");
            message.build_id_size =
                std::min<uint32_t>(input.Module.BuildIdSize, wire::kBuildIdSize);
            if (input.Module.BuildId != nullptr)
                std::memcpy(message.build_id.data(), input.Module.BuildId, message.build_id_size);
        }
        DS_TRY(wire::send_message(channel, message));
        for (;;) {
            auto reply = wire::receive_message(channel, -1);
            if (!reply.ok())
                return Error{"the callback routine's thread went away: " + reply.error().message};
            if (!*reply || (*reply)->kind != wire::Kind::kCallbackDone) continue;
            output = (*reply)->output;
            return (*reply)->result != 0;
        }
    };
}

int write_mode(const HandlerSettings& settings) {
    // Not before the library has named us its tracer (YAMA ptrace_scope 1).
    for (;;) {
        auto go = wire::receive_message(wire::kChannelFd, -1);
        if (!go.ok()) return 1;
        if (*go && (*go)->kind == wire::Kind::kGo) break;
    }
    std::shared_ptr<RoutineCallbacks> callbacks;
    if (settings.has_callback)
        callbacks = std::make_shared<RoutineCallbacks>(settings.pid, remote_call(wire::kChannelFd));
    auto plan = library_plan(settings.dump_type, settings.user_streams, callbacks);
    if (!plan.ok()) {
        send_done(wire::kChannelFd, false, plan.error().message);
        return 1;
    }
    CollectRequest request;
    request.target = std::to_string(settings.pid);
    request.output_fd = wire::kOutputFd;
    request.plan = std::move(*plan);
    request.trigger = "library";
    request.leave_running = settings.leave_running;
    ExceptionSource exception;
    exception.tid = settings.exception_tid;
    exception.siginfo_address = settings.siginfo_address;
    exception.ucontext_address = settings.ucontext_address;
    request.before_plan = library_before_plan(std::move(exception), 0);
    auto result = collect_dump(request);
    if (!result.ok()) {
        const std::string why = callbacks && !callbacks->failure().empty() ? callbacks->failure()
                                                                           : result.error().message;
        send_done(wire::kChannelFd, false, why);
        return 1;
    }
    send_done(wire::kChannelFd, true, "");
    return 0;
}

// One dump of the crash handler's process: with the crash's exception when `crash` is set.
Result<std::string> crash_mode_dump(const HandlerSettings& settings, const wire::Message* crash) {
    auto plan = library_plan(settings.dump_type, settings.user_streams, nullptr);
    if (!plan.ok()) return plan.error();
    CollectRequest request;
    request.target = std::to_string(settings.pid);
    request.output = settings.dump_dir;
    request.plan = std::move(*plan);
    request.trigger = crash != nullptr ? "crash" : "request";
    ExceptionSource exception;
    if (crash != nullptr) {
        exception.tid = crash->tid;
        exception.siginfo.assign(crash->siginfo.begin(), crash->siginfo.end());
        exception.ucontext_address = crash->ucontext_address;
    }
    request.before_plan = library_before_plan(std::move(exception), settings.annotations_address);
    // Names have the second in them: a second dump in the same second gets "-2" and so on.
    auto path = choose_output_path(request, settings.pid);
    if (!path.ok()) return path.error();
    request.output = *path;
    for (int n = 2; ::access(request.output.c_str(), F_OK) == 0 && n < 1000; ++n) {
        const size_t dot = path->rfind(".dmp");
        request.output = path->substr(0, dot) + "-" + std::to_string(n) + path->substr(dot);
    }
    auto result = collect_dump(request);
    if (!result.ok()) return result.error();
    return result->path;
}

void upload_if_asked(const HandlerSettings& settings, const std::string& path) {
    if (settings.upload_url.empty()) return;
    Status sent = upload_dump(settings.upload_url, path);
    if (!sent.ok()) std::fprintf(stderr, "dumpscope-handler: %s\n", sent.error().message.c_str());
}

int crash_mode(const HandlerSettings& settings) {
    pollfd fds[2] = {{wire::kChannelFd, POLLIN, 0}, {wire::kCrashFd, POLLIN, 0}};
    for (;;) {
        for (pollfd& p : fds) p.revents = 0;
        const int ready = ::poll(fds, 2, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return 1;
        for (pollfd& p : fds) {
            if (p.fd < 0 || p.revents == 0) continue;
            auto message = wire::receive_message(p.fd, 0);
            if (!message.ok()) {  // the process closed its end: it has exited
                p.fd = -1;
                continue;
            }
            if (!*message) continue;
            const wire::Message& m = **message;
            if (m.kind != wire::Kind::kCrash && m.kind != wire::Kind::kDumpNow) continue;
            auto path = crash_mode_dump(settings, m.kind == wire::Kind::kCrash ? &m : nullptr);
            if (!path.ok()) {
                std::fprintf(stderr, "dumpscope-handler: no dump of process %d: %s\n", settings.pid,
                             path.error().message.c_str());
                send_done(p.fd, false, path.error().message);
                continue;
            }
            // PID 1 of a namespace: when it exits, the kernel kills every process in it, this
            // helper too; so upload before the answer lets it go on and die.
            if (settings.pid == 1) upload_if_asked(settings, *path);
            send_done(p.fd, true, *path);
            if (settings.pid != 1) upload_if_asked(settings, *path);
        }
        if (fds[0].fd < 0 && fds[1].fd < 0) return 0;
    }
}

}  // namespace
}  // namespace dumpscope

int main(int argc, char** argv) {
    using namespace dumpscope;
    if (argc != 2 || (std::strcmp(argv[1], "write") != 0 && std::strcmp(argv[1], "crash") != 0)) {
        std::fprintf(stderr,
                     "dumpscope-handler is started by the dumpscope library, not by hand "
                     "(usage: dumpscope-handler write|crash, with descriptors 3-5 set up)\n");
        return 2;
    }
    ::close_range(wire::kSettingsFd + 1, ~0u, 0);  // nothing of the process we were started by
    ::signal(SIGINT, SIG_IGN);                     // Ctrl-C meant for the program
    ::signal(SIGPIPE, SIG_IGN);                    // answered by EPIPE
    auto bytes = read_settings_fd(wire::kSettingsFd);
    if (!bytes.ok()) {
        std::fprintf(stderr, "dumpscope-handler: %s\n", bytes.error().message.c_str());
        return 1;
    }
    ::close(wire::kSettingsFd);
    auto settings = decode_settings(*bytes);
    if (!settings.ok()) {
        std::fprintf(stderr, "dumpscope-handler: %s\n", settings.error().message.c_str());
        return 1;
    }
    if (std::strcmp(argv[1], "write") == 0) return write_mode(*settings);
    return crash_mode(*settings);
}
