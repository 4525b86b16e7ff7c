// dumpscope::write_dump: MiniDumpWriteDump. Another process is dumped in-process with the
// collect engine, the routine called directly; the caller's own process by the helper, which
// calls the routine back over a socket answered by a thread of ours that it leaves running.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <dumpscope/dumpscope.hpp>
#include <exception>
#include <thread>

#include "api/handler_settings.h"
#include "api/handler_wire.h"
#include "api/helper_process.h"
#include "api/library_request.h"
#include "api/routine_callbacks.h"
#include "capture/collect_job.h"
#include "common/unique_fd.h"

namespace dumpscope {

namespace {

std::vector<UserStream> copy_streams(const std::vector<UserStreamData>& streams) {
    std::vector<UserStream> out;
    out.reserve(streams.size());
    for (const UserStreamData& s : streams) out.push_back(UserStream::of(s.type, s.bytes));
    return out;
}

// The routine, with what it throws turned into an error (which cancels the dump).
Result<bool> call_routine(const DumpCallback& callback, const dumpscope_callback_input& in,
                          dumpscope_callback_output& out) {
    try {
        return callback(in, out);
    } catch (const std::exception& e) {
        return Error{std::string("the callback routine threw: ") + e.what()};
    } catch (...) {
        return Error{"the callback routine threw"};
    }
}

RoutineCall direct_call(const DumpCallback& callback) {
    return [&callback](const dumpscope_callback_input& in, dumpscope_callback_output& out) {
        return call_routine(callback, in, out);
    };
}

// Another process: the engine runs here, on the calling thread (which becomes its tracer).
Outcome write_other(pid_t pid, int fd, const WriteDumpOptions& options) {
    std::shared_ptr<RoutineCallbacks> callbacks;
    if (options.callback)
        callbacks = std::make_shared<RoutineCallbacks>(pid, direct_call(options.callback));
    auto plan = library_plan(options.dump_type, copy_streams(options.user_streams), callbacks);
    if (!plan.ok()) return Outcome::failure(plan.error().message);

    CollectRequest request;
    request.target = std::to_string(pid);
    request.output_fd = fd;
    request.plan = std::move(*plan);
    request.trigger = "library";
    ExceptionSource exception;
    if (const dumpscope_exception_information* e = options.exception) {
        exception.tid = e->ThreadId;
        if (e->ClientPointers != 0) {
            exception.siginfo_address = reinterpret_cast<uint64_t>(e->SignalInfo);
            exception.ucontext_address = reinterpret_cast<uint64_t>(e->Context);
        } else if (e->SignalInfo != nullptr && e->Context != nullptr) {
            auto bytes = [](const void* p, size_t n) {
                const auto* b = static_cast<const uint8_t*>(p);
                return std::vector<uint8_t>(b, b + n);
            };
            exception.siginfo = bytes(e->SignalInfo, sizeof(siginfo_t));
            exception.ucontext = bytes(e->Context, sizeof(ucontext_t));
        } else {
            return Outcome::failure("the exception information needs SignalInfo and Context");
        }
    }
    request.before_plan = library_before_plan(std::move(exception), 0);
    auto result = collect_dump(request);
    if (!result.ok()) {
        if (callbacks && !callbacks->failure().empty())
            return Outcome::failure(callbacks->failure());
        return Outcome::failure(result.error().message);
    }
    return Outcome::success();
}

// Answers the helper until it says it is done. Runs while every other thread of this process
// is stopped: no allocation here (the messages live on this thread's stack).
Outcome serve_helper(int channel, const DumpCallback& callback) {
    std::string failure;  // what the routine threw, which cancelled the dump
    for (;;) {
        auto got = wire::receive_message(channel, -1);
        if (!got.ok()) return Outcome::failure(got.error().message);
        if (!*got) continue;
        wire::Message& message = **got;
        if (message.kind == wire::Kind::kDone) {
            if (!failure.empty()) return Outcome::failure(failure);
            if (message.result == 1) return Outcome::success();
            return Outcome::failure(std::string(message.text_view()));
        }
        if (message.kind != wire::Kind::kCallback) continue;
        dumpscope_callback_input input = message.input;
        if (input.CallbackType == ModuleCallback) {
            message.text[std::min<size_t>(message.text_size, wire::kTextSize - 1)] = '\0';
            input.Module.FullPath = message.text.data();
            input.Module.BuildId = message.build_id_size != 0 ? message.build_id.data() : nullptr;
            input.Module.BuildIdSize = message.build_id_size;
        }
        wire::Message reply;
        reply.kind = wire::Kind::kCallbackDone;
        reply.output = message.output;
        reply.result = 1;
        if (callback) {
            Result<bool> answer = call_routine(callback, input, reply.output);
            if (!answer.ok()) {
                // Cancel the dump: every thread is stopped until the helper lets go.
                reply.result = 0;
                reply.output.Cancel = 1;
                failure = answer.error().message;
            } else {
                reply.result = *answer ? 1 : 0;
            }
        }
        Status sent = wire::send_message(channel, reply);
        if (!sent.ok()) return Outcome::failure(sent.error().message);
    }
}

// The caller's own process: the helper stops every thread but the one serving it.
Outcome write_self(int fd, const WriteDumpOptions& options) {
    auto helper = find_helper(options.handler_path);
    if (!helper.ok()) return Outcome::failure(helper.error().message);
    for (const UserStreamData& s : options.user_streams) {
        if (s.type <= 0xffff)
            return Outcome::failure(
                "user stream types must be above 0xffff (the range below "
                "is Microsoft's)");
    }
    if (options.exception != nullptr &&
        (options.exception->SignalInfo == nullptr || options.exception->Context == nullptr))
        return Outcome::failure("the exception information needs SignalInfo and Context");

    Outcome outcome = Outcome::success();
    std::thread server([&] {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            outcome = Outcome::failure(std::string("cannot create a socket pair: ") +
                                       std::strerror(errno));
            return;
        }
        UniqueFd mine(sv[0]), theirs(sv[1]);
        HandlerSettings settings;
        settings.pid = ::getpid();
        settings.dump_type = options.dump_type;
        settings.has_callback = static_cast<bool>(options.callback);
        settings.leave_running = {static_cast<int32_t>(::syscall(SYS_gettid))};
        settings.user_streams = copy_streams(options.user_streams);
        if (const dumpscope_exception_information* e = options.exception) {
            // Same address space: the pointers are the target's either way.
            settings.exception_tid = e->ThreadId;
            settings.siginfo_address = reinterpret_cast<uint64_t>(e->SignalInfo);
            settings.ucontext_address = reinterpret_cast<uint64_t>(e->Context);
        }
        auto memfd = settings_memfd(settings);
        if (!memfd.ok()) {
            outcome = Outcome::failure(memfd.error().message);
            return;
        }
        UniqueFd settings_fd(*memfd);
        auto pid = start_helper(*helper, "write", theirs.get(), fd, settings_fd.get());
        if (!pid.ok()) {
            outcome = Outcome::failure(pid.error().message);
            return;
        }
        theirs.reset();
        wire::Message go;
        go.kind = wire::Kind::kGo;
        if (Status sent = wire::send_message(mine.get(), go); sent.ok()) {
            outcome = serve_helper(mine.get(), options.callback);
        } else {
            outcome = Outcome::failure(sent.error().message);
        }
        mine.reset();
        int status = -1;
        while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
        }
        // The crash handler's helper is the allowed tracer again (YAMA keeps one).
        if (const pid_t crash_helper = crash_handler_helper_pid(); crash_helper > 0)
            (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(crash_helper), 0, 0, 0);
        if (!outcome.ok() && outcome.error().find("closed") != std::string::npos) {
            outcome =
                Outcome::failure("the dumpscope helper " +
                                 (status == -1 ? std::string("ended") : describe_exit(status)) +
                                 " before it wrote the dump");
        }
    });
    server.join();
    if (!outcome.ok()) (void)!::ftruncate(fd, 0);
    return outcome;
}

}  // namespace

Outcome write_dump(pid_t pid, int fd, const WriteDumpOptions& options) {
    if (pid <= 0) return Outcome::failure("invalid process id " + std::to_string(pid));
    if (fd < 0) return Outcome::failure("invalid file descriptor " + std::to_string(fd));
    if (pid == ::getpid()) return write_self(fd, options);
    return write_other(pid, fd, options);
}

}  // namespace dumpscope
