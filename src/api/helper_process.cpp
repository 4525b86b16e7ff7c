#include "api/helper_process.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "api/handler_wire.h"
#include "common/paths.h"
#include "procfs/signal_names.h"

extern char** environ;

namespace dumpscope {

namespace {

constexpr const char* kHelperName = "dumpscope-handler";

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// Moves fd above the helper's fixed numbers, so dup2 onto 3..5 never meets itself.
Result<int> high_copy(int fd) {
    if (fd < 0) return -1;
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (copy < 0) return errno_error("cannot duplicate a descriptor for the helper");
    return copy;
}

}  // namespace

Result<std::string> find_helper(const std::string& configured) {
    if (!configured.empty()) {
        if (!executable(configured))
            return Error{"the dumpscope helper " + configured + " is not an executable file"};
        return configured;
    }
    if (const char* env = std::getenv("DUMPSCOPE_HANDLER"); env != nullptr && *env != '\0') {
        if (!executable(env))
            return Error{std::string("DUMPSCOPE_HANDLER=") + env + " is not an executable file"};
        return std::string(env);
    }
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&find_helper), &info) == 0 || info.dli_fname == nullptr)
        return Error{"cannot tell where the dumpscope library was loaded from; set handler_path"};
    // Next to the file as loaded, then next to the file it is a symbolic link to.
    std::string self = info.dli_fname;
    std::vector<std::string> candidates;
    for (int pass = 0; pass < 2; ++pass) {
        const std::string dir = directory_of(self);
        for (const char* where : {"/../libexec/dumpscope/", "/libexec/dumpscope/"}) {
            candidates.push_back(dir + where + kHelperName);
            if (executable(candidates.back())) return candidates.back();
        }
        char* resolved = ::realpath(info.dli_fname, nullptr);
        if (resolved == nullptr) break;
        self = resolved;
        std::free(resolved);
    }
    return Error{"cannot find the dumpscope helper (" + std::string(kHelperName) + ") next to " +
                 self + " (looked in " + candidates[0] +
                 "); set handler_path or DUMPSCOPE_HANDLER"};
}

Result<pid_t> start_helper(const std::string& path, const char* mode, int channel, int second,
                           int settings) {
    auto c = high_copy(channel);
    if (!c.ok()) return c.error();
    auto s = high_copy(second);
    if (!s.ok()) {
        ::close(*c);
        return s.error();
    }
    auto t = high_copy(settings);
    if (!t.ok()) {
        ::close(*c);
        if (*s >= 0) ::close(*s);
        return t.error();
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, *c, wire::kChannelFd);
    if (*s >= 0) posix_spawn_file_actions_adddup2(&actions, *s, wire::kCrashFd);
    posix_spawn_file_actions_adddup2(&actions, *t, wire::kSettingsFd);
    // The helper starts with default signal handling and nothing blocked.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string arg0 = path;
    std::string arg1 = mode;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = 0;
    const int err = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(*c);
    if (*s >= 0) ::close(*s);
    ::close(*t);
    if (err != 0) return errno_error("cannot start the dumpscope helper " + path, err);
    // YAMA ptrace_scope 1: only ancestors may trace, unless the tracee names its tracer. No
    // YAMA: EINVAL, and nothing is needed.
    (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(pid), 0, 0, 0);
    return pid;
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "was killed by " + signal_name(WTERMSIG(status));
    return "ended (status " + std::to_string(status) + ")";
}

}  // namespace dumpscope
