// The in-process crash handler (dumpscope::CrashHandler, dumpscope_crash_handler_install).
// Install starts the helper (dumpscope-handler crash) and installs the signal handlers. On a
// crash the handler only does async-signal-safe work: it sends the thread id, the siginfo and
// the address of its ucontext to the helper, which stops the process and writes the dump from
// outside, waits for the answer, then puts back the previous disposition and re-raises, so the
// process dies of its signal. If the helper is gone, a new one is started from the handler
// (clone + execve of the same helper: a fresh process, so a corrupted heap does not matter).
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <dumpscope/dumpscope.hpp>
#include <mutex>
#include <thread>

#include "api/handler_settings.h"
#include "api/handler_wire.h"
#include "api/helper_process.h"
#include "api/library_request.h"
#include "api_read/annotation_table.h"
#include "common/unique_fd.h"

extern char** environ;

namespace dumpscope {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP};
constexpr size_t kAltStackSize = 128 * 1024;
// How long a crash waits for a helper that has not started yet (its starter thread may be
// stuck on a lock the crashing thread held), in 100 ms slices; then one is started from the
// handler. A helper that runs is waited for as long as it takes.
constexpr int kNotStartedSlices = 100;

AnnotationTable g_annotations;

// Everything the signal handler reads: set once by install, before the handlers.
struct HandlerState {
    std::atomic<bool> installed{false};
    pid_t install_pid = 0;             // a forked child has the handlers but not the helper
    std::atomic<pid_t> helper_pid{0};  // set by the starter thread; -1 if it failed
    int crash_fd = -1;                 // our end of the crash socket
    int request_fd = -1;               // our end of the request socket (write_dump_now)
    std::atomic<int> settings_fd{-1};  // kept for a helper started from the handler
    bool chain = false;
    char helper_path[PATH_MAX] = {};
    struct sigaction previous[NSIG] = {};
    std::atomic<pid_t> crashing_tid{0};
    char last_path[wire::kTextSize + 1] = {};
} g_state;

std::mutex g_request_mutex;

// The crash message and the helper's answer: static (constant-initialized, no guard), used only
// by the first crashing thread.
wire::Message g_crash;
wire::Message g_answer;

pid_t current_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

enum class CrashReport { kWritten, kFailed, kGone };

// Sends the crash and waits for the helper's answer. Async-signal-safe. kGone: the helper is
// not there to write it (the send failed, the socket closed, or it never started); kFailed: it
// answered that it could not write the dump (a second helper would fail the same way).
CrashReport report_crash(int fd, const wire::Message& crash) {
    if (::send(fd, &crash, sizeof crash, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof crash))
        return CrashReport::kGone;
    pollfd p{fd, POLLIN, 0};
    for (int slices = 0;;) {
        const bool started = g_state.helper_pid.load() > 0;
        const int ready = ::poll(&p, 1, started ? -1 : 100);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return CrashReport::kGone;
        if (ready > 0) break;
        if (!started && ++slices >= kNotStartedSlices) return CrashReport::kGone;
    }
    wire::Message& answer = g_answer;
    const ssize_t got = ::recv(fd, &answer, sizeof answer, 0);
    if (got != static_cast<ssize_t>(sizeof answer) || answer.kind != wire::Kind::kDone)
        return CrashReport::kGone;
    if (answer.result != 1) return CrashReport::kFailed;
    if (answer.text_size <= wire::kTextSize) {
        std::memcpy(g_state.last_path, answer.text.data(), answer.text_size);
        g_state.last_path[answer.text_size] = '\0';
    }
    return CrashReport::kWritten;
}

// The helper is gone: start another one from here. clone() without CLONE_VM (a copy, as fork,
// but running no atfork handlers and taking no lock), then execve: async-signal-safe.
void report_crash_to_new_helper(const wire::Message& crash) {
    const int settings = g_state.settings_fd.load();
    if (settings < 0) return;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return;
    // Above the helper's numbers, so dup2 onto them never meets itself (and keeps CLOEXEC).
    const int theirs = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    if (theirs < 0) {
        ::close(sv[0]);
        return;
    }
    const long child = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) {
        // The helper reads crashes on its crash descriptor; its request descriptor is closed.
        if (::dup2(theirs, wire::kCrashFd) < 0 || ::dup2(settings, wire::kSettingsFd) < 0)
            ::_exit(127);
        ::close(wire::kChannelFd);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        char mode[] = "crash";
        char* argv[] = {g_state.helper_path, mode, nullptr};
        ::execve(g_state.helper_path, argv, environ);
        ::_exit(127);
    }
    ::close(theirs);
    if (child > 0) {
        (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(child), 0, 0, 0);
        g_state.helper_pid.store(static_cast<pid_t>(child));
        (void)report_crash(sv[0], crash);
    }
    ::close(sv[0]);
}

void restore_and_reraise(int signo, const siginfo_t* info, pid_t tid) {
    ::sigaction(signo, &g_state.previous[signo], nullptr);
    const struct sigaction& now = g_state.previous[signo];
    const bool default_action = (now.sa_flags & SA_SIGINFO) == 0 && now.sa_handler == SIG_DFL;
    const long pid = ::syscall(SYS_getpid);
    // PID 1 of a namespace ignores a signal it raises at itself with the default action.
    if (pid == 1 && default_action) ::_exit(128 + signo);
    // A fault the kernel raised happens again when the instruction runs once more, now with
    // the restored disposition and its own siginfo (a chained handler sees the real si_addr).
    // A signal sent by a process (abort(), kill) or a trap that does not repeat is raised
    // again: pending until the handler returns, then delivered.
    const bool faults_again =
        info != nullptr && info->si_code > 0 && signo != SIGABRT && signo != SIGTRAP;
    if (!faults_again) ::syscall(SYS_tgkill, pid, tid, signo);
}

void on_crash(int signo, siginfo_t* info, void* ucontext) {
    const int saved_errno = errno;
    const pid_t tid = current_tid();
    if (::syscall(SYS_getpid) != g_state.install_pid) {  // a child forked without atfork
        restore_and_reraise(signo, info, tid);
        errno = saved_errno;
        return;
    }
    pid_t first = 0;
    if (!g_state.crashing_tid.compare_exchange_strong(first, tid)) {
        if (first == tid) {  // a crash inside this handler: give up on the dump
            restore_and_reraise(signo, info, tid);
            errno = saved_errno;
            return;
        }
        // Another thread is being dumped: one dump, of the first. It ends the process.
        for (;;) ::pause();
    }
    wire::Message& crash = g_crash;
    std::memset(static_cast<void*>(&crash), 0, sizeof crash);
    crash.kind = wire::Kind::kCrash;
    crash.tid = tid;
    std::memcpy(crash.siginfo.data(), info, sizeof(siginfo_t));
    crash.ucontext_address = reinterpret_cast<uint64_t>(ucontext);
    // YAMA keeps one allowed tracer per process: a write_dump of this process since install
    // named its own helper.
    if (const pid_t helper = g_state.helper_pid.load(); helper > 0)
        (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(helper), 0, 0, 0);
    if (report_crash(g_state.crash_fd, crash) == CrashReport::kGone)
        report_crash_to_new_helper(crash);
    restore_and_reraise(signo, info, tid);
    errno = saved_errno;
}

// A child forked after install has the handlers and the sockets but not a helper of its own:
// it dies of its crashes as if nothing were installed, and does not keep the helper alive.
void forget_in_child() {
    if (!g_state.installed.load()) return;
    for (int signo : kSignals) ::sigaction(signo, &g_state.previous[signo], nullptr);
    ::close(g_state.crash_fd);
    ::close(g_state.request_fd);
    g_state.installed.store(false);
}

Outcome install_alt_stack() {
    stack_t current{};
    if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0 &&
        current.ss_size >= kAltStackSize)
        return Outcome::success();  // the thread has one big enough
    void* memory = ::mmap(nullptr, kAltStackSize + 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (memory == MAP_FAILED)
        return Outcome::failure(std::string("cannot map an alternate signal stack: ") +
                                std::strerror(errno));
    ::mprotect(memory, 4096, PROT_NONE);  // guard page below it
    stack_t stack{};
    stack.ss_sp = static_cast<char*>(memory) + 4096;
    stack.ss_size = kAltStackSize;
    if (::sigaltstack(&stack, nullptr) != 0) {
        ::munmap(memory, kAltStackSize + 4096);
        return Outcome::failure(std::string("cannot set an alternate signal stack: ") +
                                std::strerror(errno));
    }
    return Outcome::success();
}

}  // namespace

Outcome CrashHandler::install(const CrashHandlerOptions& options) {
    static std::mutex install_mutex;
    std::lock_guard<std::mutex> lock(install_mutex);
    if (g_state.installed.load()) return Outcome::failure("the crash handler is already installed");
    if (options.dump_dir.empty()) return Outcome::failure("the crash handler needs a dump_dir");
    if (::access(options.dump_dir.c_str(), W_OK) != 0)
        return Outcome::failure("cannot write dumps into " + options.dump_dir + ": " +
                                std::strerror(errno));
    // What the helper will check at the crash, checked now: a crash is no time to learn it.
    std::vector<UserStream> streams;
    for (const UserStreamData& s : options.user_streams)
        streams.push_back(UserStream::of(s.type, s.bytes));
    if (auto plan = library_plan(options.dump_type, streams, nullptr); !plan.ok())
        return Outcome::failure(plan.error().message);
    auto helper = find_helper(options.handler_path);
    if (!helper.ok()) return Outcome::failure(helper.error().message);
    if (helper->size() >= sizeof g_state.helper_path)
        return Outcome::failure("the helper's path is too long: " + *helper);
    if (!options.upload_url.empty() && options.upload_url.rfind("http://", 0) != 0)
        return Outcome::failure("upload URL " + options.upload_url + ": only http:// is supported");
    for (const auto& [key, value] : options.annotations) {
        const char* error = nullptr;
        if (!g_annotations.set(key.c_str(), value.c_str(), &error))
            return Outcome::failure(std::string(error) + " (" + key + ")");
    }

    char dir[PATH_MAX];
    if (::realpath(options.dump_dir.c_str(), dir) == nullptr)
        return Outcome::failure("cannot resolve " + options.dump_dir);
    HandlerSettings settings;
    settings.pid = ::getpid();
    settings.dump_type = options.dump_type;
    settings.dump_dir = dir;
    settings.upload_url = options.upload_url;
    settings.annotations_address = reinterpret_cast<uint64_t>(&g_annotations);
    settings.user_streams = std::move(streams);
    // The settings now (a helper started from the signal handler needs them), the helper by a
    // short-lived thread, so the install costs the caller little (bench/crash_handler.sh).
    auto memfd = settings_memfd(settings);
    if (!memfd.ok()) return Outcome::failure(memfd.error().message);
    UniqueFd settings_fd(*memfd);
    int crash[2], request[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, crash) != 0)
        return Outcome::failure(std::string("cannot create a socket pair: ") +
                                std::strerror(errno));
    UniqueFd crash_mine(crash[0]), crash_theirs(crash[1]);
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, request) != 0)
        return Outcome::failure(std::string("cannot create a socket pair: ") +
                                std::strerror(errno));
    UniqueFd request_mine(request[0]), request_theirs(request[1]);
    if (Outcome stack = install_alt_stack(); !stack.ok()) return stack;

    std::memcpy(g_state.helper_path, helper->c_str(), helper->size() + 1);
    g_state.crash_fd = crash_mine.release();
    g_state.request_fd = request_mine.release();

    // Above the helper's numbers (3-5), so the handler's dup2 calls never overwrite it.
    g_state.settings_fd.store(::fcntl(settings_fd.get(), F_DUPFD_CLOEXEC, 10));
    g_state.install_pid = ::getpid();
    // A crash before the helper runs waits in the socket for it (at most 10 s, then one is
    // started from the handler); if it cannot be started, its ends of the sockets close.
    std::thread([helper = *helper, crash_fd = crash_theirs.release(),
                 request_fd = request_theirs.release()] {
        UniqueFd crash_end(crash_fd), request_end(request_fd);
        auto pid = start_helper(helper, "crash", request_end.get(), crash_end.get(),
                                g_state.settings_fd.load());
        g_state.helper_pid.store(pid.ok() ? *pid : -1);
        if (!pid.ok())
            std::fprintf(stderr, "dumpscope: no crash handler helper: %s\n",
                         pid.error().message.c_str());
    }).detach();
    static std::once_flag atfork_once;
    std::call_once(atfork_once, [] { ::pthread_atfork(nullptr, nullptr, forget_in_child); });

    g_state.chain = options.chain_previous_handlers;
    for (int signo : kSignals) {
        struct sigaction action {};
        action.sa_sigaction = on_crash;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        // What to restore is in place before the handler can run.
        struct sigaction old {};
        ::sigaction(signo, nullptr, &old);
        if (options.chain_previous_handlers) {
            g_state.previous[signo] = old;
        } else {
            g_state.previous[signo] = {};
            g_state.previous[signo].sa_handler = SIG_DFL;
        }
        ::sigaction(signo, &action, nullptr);
    }
    g_state.installed.store(true);
    return Outcome::success();
}

Outcome CrashHandler::thread_init() { return install_alt_stack(); }

Outcome CrashHandler::set_annotation(const std::string& key, const std::string& value) {
    const char* error = nullptr;
    if (!g_annotations.set(key.c_str(), value.c_str(), &error)) return Outcome::failure(error);
    return Outcome::success();
}

Outcome CrashHandler::remove_annotation(const std::string& key) {
    const char* error = nullptr;
    if (!g_annotations.set(key.c_str(), nullptr, &error)) return Outcome::failure(error);
    return Outcome::success();
}

Outcome CrashHandler::write_dump_now(std::string* path) {
    if (!g_state.installed.load()) return Outcome::failure("the crash handler is not installed");
    std::lock_guard<std::mutex> lock(g_request_mutex);
    if (const pid_t helper = g_state.helper_pid.load(); helper > 0)
        (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(helper), 0, 0, 0);
    wire::Message request;
    request.kind = wire::Kind::kDumpNow;
    request.tid = current_tid();
    if (Status sent = wire::send_message(g_state.request_fd, request); !sent.ok())
        return Outcome::failure("the dumpscope helper is gone: " + sent.error().message);
    for (;;) {
        auto answer = wire::receive_message(g_state.request_fd, -1);
        if (!answer.ok())
            return Outcome::failure("the dumpscope helper is gone: " + answer.error().message);
        if (!*answer || (*answer)->kind != wire::Kind::kDone) continue;
        const std::string text((*answer)->text_view());
        if ((*answer)->result != 1) return Outcome::failure(text);
        if (path != nullptr) *path = text;
        std::memcpy(g_state.last_path, text.data(), text.size());
        g_state.last_path[text.size()] = '\0';
        return Outcome::success();
    }
}

const char* crash_handler_last_dump_path() { return g_state.last_path; }

pid_t crash_handler_helper_pid() {
    return g_state.installed.load() ? g_state.helper_pid.load() : 0;
}

bool set_annotation_raw(const char* key, const char* value, const char** error) {
    return g_annotations.set(key, value, error);
}

}  // namespace dumpscope
