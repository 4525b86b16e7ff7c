#include "service/analysis_child.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include "common/malloc_tuning.h"
#include "service/analysis_answer.h"
#include "service/process_dump.h"

#if DUMPSCOPE_TEST_HOOKS
#include <sys/stat.h>

#include <chrono>
#include <thread>
#endif

namespace dumpscope::service {

namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

Status set_limit(int resource, const char* name, uint64_t soft, uint64_t hard) {
    const rlimit limit{static_cast<rlim_t>(soft), static_cast<rlim_t>(hard)};
    if (::setrlimit(resource, &limit) != 0)
        return errno_error(fmt::format("cannot set {} to {}", name, soft));
    return {};
}

Status limit_self(const AnalysisChildArgs& args) {
    // A crash of the analysis is counted and logged by the server; a core file of it, the size
    // of the analysis, per attempt, is not wanted.
    DS_TRY(set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0));
    if (args.memory_mb > 0) {
        // The heap and every private writable mapping; not the dump's read-only mapping, which
        // is as large as the dump whatever the analysis does.
        const uint64_t bytes = args.memory_mb << 20;
        DS_TRY(set_limit(RLIMIT_DATA, "RLIMIT_DATA", bytes, bytes));
    }
    // SIGXCPU at the soft limit, SIGKILL one second later.
    if (args.cpu_seconds > 0)
        DS_TRY(set_limit(RLIMIT_CPU, "RLIMIT_CPU", args.cpu_seconds, args.cpu_seconds + 1));
    return {};
}

#if DUMPSCOPE_TEST_HOOKS
bool dump_starts_with(const std::string& path, const char* prefix) {
    const std::string_view wanted(prefix);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    std::string head(wanted.size(), '\0');
    const size_t n = std::fread(head.data(), 1, head.size(), f);
    std::fclose(f);
    return !wanted.empty() && n == wanted.size() && head == wanted;
}

// Test-only (-DDUMPSCOPE_TEST_HOOKS=ON), for tests/integration/service_isolation_test.cpp:
//   DUMPSCOPE_TEST_ANALYSIS_WAIT=FILE   the analysis starts only once FILE exists
//   DUMPSCOPE_TEST_ANALYSIS_SEGV=TEXT   a dump starting with TEXT raises SIGSEGV
//   DUMPSCOPE_TEST_ANALYSIS_HANG=TEXT   a dump starting with TEXT never ends
void test_hooks(const std::string& dump) {
    if (const char* text = std::getenv("DUMPSCOPE_TEST_ANALYSIS_SEGV");
        text != nullptr && dump_starts_with(dump, text))
        ::raise(SIGSEGV);
    if (const char* text = std::getenv("DUMPSCOPE_TEST_ANALYSIS_HANG");
        text != nullptr && dump_starts_with(dump, text))
        for (;;) ::pause();
    if (const char* file = std::getenv("DUMPSCOPE_TEST_ANALYSIS_WAIT")) {
        struct stat st {};
        while (::stat(file, &st) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}
#endif

AnalysisAnswer analyse(const AnalysisChildArgs& args) {
    try {
        auto result = process_dump(args.dump, args.symbols);
        if (!result.ok()) return AnalysisAnswer{std::nullopt, result.error().message};
        return AnalysisAnswer{std::move(*result), ""};
    } catch (const std::bad_alloc&) {
        return AnalysisAnswer{
            std::nullopt, fmt::format("the analysis ran out of memory (--analysis-memory-mb {})",
                                      args.memory_mb)};
    } catch (const std::exception& e) {
        return AnalysisAnswer{std::nullopt,
                              fmt::format("internal error while analysing the dump: {}", e.what())};
    }
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

std::vector<std::string> analysis_child_arguments(const AnalysisChildArgs& args) {
    std::vector<std::string> out = {kAnalysisChildArg,
                                    "--dump",
                                    args.dump,
                                    "--result-fd",
                                    std::to_string(args.result_fd),
                                    "--parent",
                                    std::to_string(args.parent),
                                    "--memory-mb",
                                    std::to_string(args.memory_mb),
                                    "--cpu-seconds",
                                    std::to_string(args.cpu_seconds),
                                    "--debug-root",
                                    args.symbols.debug_root,
                                    "--cache",
                                    args.symbols.cache_dir};
    for (const std::string& dir : args.symbols.symbol_dirs) {
        out.emplace_back("--symbols");
        out.push_back(dir);
    }
    return out;
}

Result<AnalysisChildArgs> parse_analysis_child_arguments(int argc, char** argv) {
    if (argc < 2 || std::string_view(argv[1]) != kAnalysisChildArg)
        return Error{fmt::format("expected {} as the first argument", kAnalysisChildArg)};
    AnalysisChildArgs out;
    out.symbols.debug_root.clear();
    bool has_dump = false, has_fd = false, has_parent = false;
    for (int i = 2; i < argc; i += 2) {
        const std::string_view name = argv[i];
        if (i + 1 >= argc) return Error{fmt::format("{}: no value", name)};
        const std::string value = argv[i + 1];
        bool ok = true;
        if (name == "--dump") {
            out.dump = value;
            has_dump = true;
        } else if (name == "--result-fd") {
            ok = parse_number(value, out.result_fd) && out.result_fd >= 0;
            has_fd = true;
        } else if (name == "--parent") {
            ok = parse_number(value, out.parent) && out.parent > 0;
            has_parent = true;
        } else if (name == "--memory-mb") {
            ok = parse_number(value, out.memory_mb) && out.memory_mb < (uint64_t{1} << 40);
        } else if (name == "--cpu-seconds") {
            ok = parse_number(value, out.cpu_seconds);
        } else if (name == "--debug-root") {
            out.symbols.debug_root = value;
        } else if (name == "--cache") {
            out.symbols.cache_dir = value;
        } else if (name == "--symbols") {
            out.symbols.symbol_dirs.push_back(value);
        } else {
            return Error{fmt::format("unknown argument {}", name)};
        }
        if (!ok) return Error{fmt::format("{}: invalid value '{}'", name, value)};
    }
    if (!has_dump || !has_fd || !has_parent)
        return Error{"--dump, --result-fd and --parent are required"};
    return out;
}

int analysis_child_main(int argc, char** argv) {
    auto args = parse_analysis_child_arguments(argc, argv);
    if (!args.ok()) {
        fmt::print(stderr, "dumpscope {}: {}\n", kAnalysisChildArg, args.error().message);
        return 2;
    }
    // Dies with the server thread that started it; if that thread is already gone, the parent
    // is no longer the server.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != args->parent) return 3;
    // The analysis' own children (none today) do not inherit the answer's pipe.
    if (::fcntl(args->result_fd, F_SETFD, FD_CLOEXEC) != 0) return 3;
    if (Status limited = limit_self(*args); !limited.ok()) {
        fmt::print(stderr, "dumpscope {}: {}\n", kAnalysisChildArg, limited.error().message);
        return 3;
    }
    // After the limits: the heap it grows ahead counts against RLIMIT_DATA (or is not grown).
    tune_malloc_for_analysis();
    // Below the server's own threads: SCHED_IDLE takes only the CPU that the uploads and pages
    // leave, and a waking server thread preempts it at once (at nice 10 the analyses halved the
    // ingest rate under 50 uploaders). glibc's posix_spawn takes no SCHED_IDLE, so it is set here.
    // Where SCHED_IDLE is refused (a seccomp filter, a container's policy), nice 10.
    const sched_param idle{};
    if (::sched_setscheduler(0, SCHED_IDLE, &idle) != 0) {
        errno = 0;
        if (::nice(10) == -1 && errno != 0) {
            fmt::print(stderr, "dumpscope {}: cannot lower its priority: {}\n", kAnalysisChildArg,
                       std::strerror(errno));
            return 3;
        }
    }
#if DUMPSCOPE_TEST_HOOKS
    test_hooks(args->dump);
#endif
    const AnalysisAnswer answer = analyse(*args);
    return write_all(args->result_fd, encode_analysis_answer(answer)) ? 0 : 1;
}

}  // namespace dumpscope::service
