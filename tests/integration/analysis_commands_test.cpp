// The analysis commands on real dumps: regions totals against /proc/PID/maps at capture time,
// memory with ?? where the dump has no bytes, threads with their system calls, the exception of
// a kernel core, descriptors, vertarget, the debug shell, and a module whose file changed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis_support.h"
#include "shared_waiters.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);
constexpr uint64_t kDataMarker = 0xD47A5E6D47A5E6D4ull;

nlohmann::json json_of(const std::vector<std::string>& argv) {
    const CommandResult r = run(argv, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

uint64_t maps_total(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    uint64_t total = 0;
    for (std::string line; std::getline(in, line);) {
        const size_t dash = line.find('-');
        const size_t space = line.find(' ');
        total += std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16) -
                 std::stoull(line.substr(0, dash), nullptr, 16);
    }
    return total;
}

class AnalysisCommands : public SharedWaiters<::testing::Test> {
protected:
};

TEST_F(AnalysisCommands, RegionsSummaryTotalsMatchProcMapsAtCaptureTime) {
    for (const char* format : {"minidump", "core"}) {
        for (const char* type : {"mini", "maxi"}) {
            const uint64_t before = maps_total(fixture_->pid());
            const std::string dump = collect(type, format);
            ASSERT_EQ(maps_total(fixture_->pid()), before) << "the fixture's mappings changed";
            const nlohmann::json summary =
                json_of({dumpscope_binary(), "regions", "--summary", "--json", dump});
            EXPECT_EQ(summary.at("busy").get<uint64_t>(), before) << format << " " << type;
            uint64_t by_usage = 0, stacks = 0, heaps = 0, images = 0;
            for (const auto& row : summary.at("usage")) {
                if (row.at("name") == "Free") continue;
                by_usage += row.at("size").get<uint64_t>();
                if (row.at("name") == "Stack") stacks = row.at("regions").get<uint64_t>();
                if (row.at("name") == "Heap") heaps = row.at("regions").get<uint64_t>();
                if (row.at("name") == "Image") images = row.at("regions").get<uint64_t>();
            }
            EXPECT_EQ(by_usage, before);
            EXPECT_EQ(stacks, 4u) << "one stack per thread";
            EXPECT_GE(heaps, 1u);
            EXPECT_GE(images, 4u);
        }
    }
}

TEST_F(AnalysisCommands, RegionOfAnAddressNamesTheThreadWhoseStackItIs) {
    const std::string dump = collect("mini", "minidump");
    const nlohmann::json threads = json_of({dumpscope_binary(), "threads", "--json", dump});
    const uint64_t sp = threads.at(1).at("sp").get<uint64_t>();
    std::ostringstream address;
    address << std::hex << sp;
    const nlohmann::json region =
        json_of({dumpscope_binary(), "regions", "--json", dump, address.str()});
    EXPECT_EQ(region.at("usage"), "Stack");
    EXPECT_EQ(region.at("detail"), "thread " + std::to_string(tid(1)));
    EXPECT_GT(region.at("bytes_in_dump").get<uint64_t>(), 0u);
    EXPECT_LT(region.at("bytes_in_dump").get<uint64_t>(), region.at("size").get<uint64_t>());
}

TEST_F(AnalysisCommands, MemoryShowsTheMarkerOnlyWhenTheDumpHoldsIt) {
    std::ostringstream address;
    address << std::hex << fixture_->address("data_marker_address");
    for (const char* format : {"minidump", "core"}) {
        const nlohmann::json full = json_of(
            {dumpscope_binary(), "memory", "--json", collect("maxi", format), address.str(), "8"});
        uint64_t value = 0;
        for (int i = 7; i >= 0; --i) value = value << 8 | full.at("bytes").at(i).get<uint64_t>();
        EXPECT_EQ(value, kDataMarker) << format;
        const std::string mini = collect("mini", format);
        const nlohmann::json absent =
            json_of({dumpscope_binary(), "memory", "--json", mini, address.str(), "8"});
        EXPECT_EQ(absent.at("bytes_in_dump").get<uint64_t>(), 0u) << format;
        const CommandResult text =
            run({dumpscope_binary(), "memory", mini, address.str(), "8", "--format", "q"});
        EXPECT_NE(text.out.find("????????`????????"), std::string::npos) << text.out;
    }
}

TEST_F(AnalysisCommands, ThreadsShowNamesAndTheSystemCallEachIsBlockedIn) {
    for (const char* format : {"minidump", "core"}) {
        const nlohmann::json threads =
            json_of({dumpscope_binary(), "threads", "--json", collect("mini", format)});
        ASSERT_EQ(threads.size(), 4u);
        EXPECT_EQ(threads.at(0).at("tid").get<int>(), tid(0));
        EXPECT_EQ(threads.at(0).at("syscall").at("name"), "pause") << format;
        for (int i = 1; i <= 3; ++i) {
            EXPECT_EQ(threads.at(i).at("name"), "waiter-" + std::to_string(i)) << format;
            EXPECT_EQ(threads.at(i).at("syscall").at("name"), "futex") << format;
            EXPECT_EQ(threads.at(i).at("state"), "S");
        }
    }
}

TEST_F(AnalysisCommands, HandlesListTheDescriptorsOfAMidiDump) {
    const nlohmann::json fds =
        json_of({dumpscope_binary(), "handles", "--json", collect("midi", "minidump")});
    bool found = false;
    for (const auto& fd : fds) {
        if (fd.at("fd").get<int>() == fixture_->info().at("fd").get<int>()) {
            found = fd.at("target") == fixture_->path() && fd.at("type") == "file";
        }
    }
    EXPECT_TRUE(found) << fds.dump(2);
}

TEST_F(AnalysisCommands, VertargetShowsSystemProcessAndCommandLine) {
    const nlohmann::json target =
        json_of({dumpscope_binary(), "vertarget", "--json", collect("mini", "minidump")});
    EXPECT_EQ(target.at("process").at("pid").get<int>(), fixture_->pid());
    EXPECT_EQ(target.at("process").at("argv").at(0), fixture_->path());
    EXPECT_FALSE(target.at("system").at("release").get<std::string>().empty());
    EXPECT_GT(target.at("dump_time_unix").get<uint64_t>(), 0u);
}

TEST_F(AnalysisCommands, StackJsonUsesMinidumpStackwalkFieldNames) {
    nlohmann::json j;
    dumpscope_stacks(collect("mini", "minidump"), &j);
    for (const char* key : {"status", "pid", "crash_info", "system_info", "thread_count", "threads",
                            "modules", "main_module"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j.at("pid").get<int>(), fixture_->pid());
    EXPECT_EQ(j.at("system_info").at("cpu_arch"), "amd64");
    const auto& frame = j.at("threads").at(1).at("frames").at(2);
    for (const char* key : {"frame", "trust", "offset", "module", "module_offset", "function",
                            "function_offset", "file", "line", "missing_symbols"}) {
        EXPECT_TRUE(frame.contains(key)) << key;
    }
    EXPECT_EQ(j.at("threads").at(1).at("frames").at(0).at("trust"), "context");
    EXPECT_EQ(frame.at("trust"), "cfi");
    EXPECT_EQ(frame.at("module"), "fixture_waiters");
    EXPECT_EQ(frame.at("function"), "wait_forever_in_waiter");
    EXPECT_TRUE(frame.at("file").get<std::string>().find("fixture_waiters.c") != std::string::npos);
    EXPECT_EQ(frame.at("module_offset").get<std::string>().size(), 18u) << "0x + 16 digits";
    const auto& module = j.at("modules").at(j.at("main_module").get<size_t>());
    EXPECT_EQ(module.at("filename"), "fixture_waiters");
    EXPECT_EQ(module.at("code_id").get<std::string>().size(), 40u);
}

TEST_F(AnalysisCommands, DebugShellRunsWinDbgCommandsInOrder) {
    const std::string dump = collect("mini", "minidump");
    const CommandResult r = run({dumpscope_binary(), "debug", dump, "-c",
                                 "~; ~2s; k; r rip; lm; !address -summary; .ecxr; !handle"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("0:000> ~2s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0:002> k"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("wait_forever_in_waiter"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Usage Summary"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no exception record"), std::string::npos) << r.out;
    const CommandResult bad = run({dumpscope_binary(), "debug", dump, "-c", "lm; nonsense"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.out.find("unknown command 'nonsense'"), std::string::npos) << bad.out;
}

TEST_F(AnalysisCommands, AModuleWhoseFileChangedIsMismatchedAndNotUsed) {
    // A copy of the fixture runs; after the dump, the copy is replaced by another program.
    const std::string copy = dir_.path() + "/waiters_copy";
    std::filesystem::copy_file(fixture_->path(), copy);
    std::string dump;
    {
        Program program({copy});
        dump = dir_.path() + "/copy.dmp";
        ASSERT_EQ(
            run({dumpscope_binary(), "collect", "--quiet", std::to_string(program.pid()), dump})
                .exit_code,
            0);
    }
    const std::string symbols = dir_.path() + "/symbols";
    std::filesystem::create_directory(symbols);
    std::filesystem::rename(copy, symbols + "/waiters_copy");
    std::filesystem::copy_file(fixture_path("fixture_deadlock"), copy);

    auto status_of_copy = [&](const nlohmann::json& modules) {
        for (const auto& m : modules) {
            if (m.at("name") == "waiters_copy") return m.at("symbol_status").get<std::string>();
        }
        return std::string("absent");
    };
    const nlohmann::json mismatched = json_of({dumpscope_binary(), "modules", "--json", dump});
    EXPECT_EQ(status_of_copy(mismatched), "mismatched");
    const Stacks without = dumpscope_stacks(dump);
    EXPECT_FALSE(has_function(without.begin()->second, "main_thread_wait"));

    const nlohmann::json matched =
        json_of({dumpscope_binary(), "modules", "--json", "--symbols", symbols, dump});
    EXPECT_EQ(status_of_copy(matched), "matched");
    const CommandResult with = run({dumpscope_binary(), "stack", "--symbols", symbols, dump});
    EXPECT_NE(with.out.find("main_thread_wait"), std::string::npos) << with.out;
}

TEST(KernelCore, ExceptionThreadAndFaultingFrameOfAKernelCore) {
    std::ifstream pattern("/proc/sys/kernel/core_pattern");
    std::string core_pattern;
    std::getline(pattern, core_pattern);
    if (core_pattern != "core") GTEST_SKIP() << "core_pattern is '" << core_pattern << "'";
    TempDir dir;
    const CommandResult crash =
        run({"sh", "-c", "cd " + dir.path() + " && exec " + fixture_path("fixture_segv_core")});
    ASSERT_EQ(crash.exit_code, 128 + 11) << crash.out << crash.err;
    const int pid = nlohmann::json::parse(crash.out).at("pid").get<int>();
    const std::string core = dir.path() + "/core";
    ASSERT_TRUE(std::filesystem::exists(core)) << "no core written (RLIMIT_CORE?)";

    const nlohmann::json exception = json_of({dumpscope_binary(), "exception", "--json", core});
    EXPECT_EQ(exception.at("signal").get<int>(), 11);
    EXPECT_EQ(exception.at("code_name"), "SEGV_MAPERR");
    EXPECT_EQ(exception.at("address").get<uint64_t>(), 16u);
    EXPECT_EQ(exception.at("tid").get<int>(), pid);
    EXPECT_NE(exception.at("location").get<std::string>().find("crash_here"), std::string::npos);

    nlohmann::json stack;
    const Stacks stacks = dumpscope_stacks(core, &stack);
    EXPECT_EQ(stacks.size(), 2u);
    EXPECT_EQ(stack.at("crash_info").at("type"), "SIGSEGV / SEGV_MAPERR");
    EXPECT_EQ(stack.at("crash_info").at("crashing_thread").get<int>(), pid);
    const auto& crashing = stack.at("crashing_thread");
    EXPECT_EQ(crashing.at("frames").at(0).at("function"), "crash_here");
    EXPECT_EQ(crashing.at("frames").at(1).at("function"), "main");
    if (have_program("gdb")) {
        EXPECT_TRUE(
            same_stacks(stacks, gdb_stacks(dir.path(), fixture_path("fixture_segv_core"), core)));
    }
}

// The number of lines of `text` that contain `needle`.
size_t lines_with(const std::string& text, const std::string& needle) {
    size_t count = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) count += line.find(needle) != std::string::npos;
    return count;
}

// A core the kernel cut at `ulimit -c`: the limit counts the bytes written (zero pages are
// skipped as holes), so it is found from a first, whole core: from its allocated size down, 4 KiB
// at a time, until the core comes out shorter (the last PT_LOADs hold the main thread's stack).
// dumpscope names the frames gdb names on the same file, and says once what is missing.
TEST(KernelCore, ACoreCutByUlimitGivesTheFramesGdbGives) {
    std::ifstream pattern("/proc/sys/kernel/core_pattern");
    std::string core_pattern;
    std::getline(pattern, core_pattern);
    if (core_pattern != "core") GTEST_SKIP() << "core_pattern is '" << core_pattern << "'";
    TempDir dir;
    const std::string fixture = fixture_path("fixture_segv_core");
    const std::string core = dir.path() + "/core";
    auto crash_with_limit = [&](const std::string& limit) {
        std::filesystem::remove(core);
        // bash: its ulimit -c counts KiB (dash's counts 512-byte blocks).
        return run(
            {"bash", "-c", "cd " + dir.path() + " && ulimit -c " + limit + " && exec " + fixture});
    };
    const CommandResult whole = crash_with_limit("unlimited");
    ASSERT_EQ(whole.exit_code, 128 + 11) << whole.err;
    ASSERT_TRUE(std::filesystem::exists(core)) << "no core written";
    struct stat st {};
    ASSERT_EQ(::stat(core.c_str(), &st), 0);
    const uint64_t whole_size = static_cast<uint64_t>(st.st_size);
    const uint64_t allocated_kib = static_cast<uint64_t>(st.st_blocks) / 2;
    CommandResult crash;
    std::string limit;
    for (uint64_t kib = allocated_kib - 4; kib > allocated_kib / 2; kib -= 4) {
        limit = std::to_string(kib);
        crash = crash_with_limit(limit);
        ASSERT_EQ(crash.exit_code, 128 + 11) << crash.err;
        ASSERT_TRUE(std::filesystem::exists(core)) << "no core written with ulimit -c " << limit;
        if (std::filesystem::file_size(core) < whole_size) break;
    }
    ASSERT_LT(std::filesystem::file_size(core), whole_size) << "no limit cut the core";
    const int pid = nlohmann::json::parse(crash.out).at("pid").get<int>();

    const CommandResult text = run({dumpscope_binary(), "stack", "--all", core}, 300);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(std::count(text.err.begin(), text.err.end(), '\n'), 1) << text.err;
    EXPECT_EQ(lines_with(text.err, core + " is truncated: "), 1u) << text.err;
    EXPECT_NE(text.err.find("bytes missing"), std::string::npos) << text.err;

    nlohmann::json stack;
    const Stacks stacks = dumpscope_stacks(core, &stack);
    ASSERT_EQ(stacks.size(), 2u);
    EXPECT_EQ(stack.at("crashing_thread").at("frames").at(0).at("function"), "crash_here");
    for (const auto& [tid, frames] : stacks) {
        if (tid == pid) continue;
        EXPECT_TRUE(has_function(frames, "idle_thread_main")) << describe(frames);
    }
    if (have_program("gdb")) {
        EXPECT_TRUE(same_stacks(stacks, gdb_stacks(dir.path(), fixture, core)));
    }
    const nlohmann::json info = json_of({dumpscope_binary(), "info", "--json", core});
    EXPECT_EQ(info.at("warnings").size(), 1u);
}

// A full minidump missing its last bytes: first only its capture record (written last), then
// the end of the memory before it too. Every thread and stack is still there, what is missing is
// said once, and the cut memory shows as absent (??).
TEST_F(AnalysisCommands, AMinidumpMissingItsLastBytesStillGivesThreadsAndStacks) {
    const std::string dump = collect("maxi", "minidump");
    const nlohmann::json threads = json_of({dumpscope_binary(), "threads", "--json", dump});
    const Stacks stacks = dumpscope_stacks(dump);
    const nlohmann::json whole = json_of({dumpscope_binary(), "info", "--json", dump});
    uint64_t capture_size = 0;
    for (const auto& entry : whole.at("entries")) {
        if (entry.at("name") == "DumpscopeCapture") capture_size = entry.at("size").get<uint64_t>();
    }
    ASSERT_GT(capture_size, 0u);
    const auto& last = whole.at("memory").back();  // the memory list is in file order
    const uint64_t last_byte =
        last.at("start").get<uint64_t>() + last.at("size").get<uint64_t>() - 1;
    for (uint64_t cut : {uint64_t{1}, capture_size + 100}) {
        const std::string path = dir_.path() + "/cut-" + std::to_string(cut) + ".dmp";
        std::filesystem::copy_file(dump, path);
        std::filesystem::resize_file(path, std::filesystem::file_size(dump) - cut);
        const CommandResult r = run({dumpscope_binary(), "threads", "--json", path}, 300);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(path + " is truncated: "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("cut: DumpscopeCapture"), std::string::npos) << r.err;
        EXPECT_EQ(nlohmann::json::parse(r.out).size(), threads.size());
        EXPECT_TRUE(same_stacks(dumpscope_stacks(path), stacks));
        const nlohmann::json info = json_of({dumpscope_binary(), "info", "--json", path});
        EXPECT_EQ(info.at("warnings").size(), 1u);
        EXPECT_FALSE(info.contains("capture"));
        std::ostringstream address;
        address << std::hex << last_byte;
        const CommandResult memory =
            run({dumpscope_binary(), "memory", path, address.str(), "1"}, 300);
        ASSERT_EQ(memory.exit_code, 0) << memory.err;
        EXPECT_EQ(memory.out.find("??") != std::string::npos, cut > capture_size) << memory.out;
    }
}

// A process named "odd\xff\xfe" (prctl) running from a file of that name, with a thread named
// "t\xfe\xff": every command succeeds on its dumps, the JSON parses (python3), names and paths
// are shown escaped one way (\xHH), and the executable's symbols are found through its bytes.
TEST(OddNames, NamesAndPathsThatAreNotUtf8AreEscapedAndTheirSymbolsFound) {
    TempDir dir;
    const std::string exe = dir.path() + "/odd\xff\xfe";
    std::filesystem::copy_file(fixture_path("fixture_odd_name"), exe);
    Program program({exe});
    const std::string shown_exe = dir.path() + "/odd\\xff\\xfe";
    for (const char* format : {"minidump", "core"}) {
        const std::string dump = collect_into(dir.path(), program.pid(), "mini", format);
        for (std::vector<std::string> command : std::vector<std::vector<std::string>>{
                 {"info"}, {"threads"}, {"stack", "--all"}, {"modules"}, {"vertarget"}}) {
            command.insert(command.begin(), dumpscope_binary());
            command.push_back(dump);
            const CommandResult text = run(command, 300);
            EXPECT_EQ(text.exit_code, 0) << command[1] << " " << format << ": " << text.err;
            command.push_back("--json");
            const CommandResult json = run(command, 300);
            ASSERT_EQ(json.exit_code, 0) << command[1] << " --json " << format << ": " << json.err;
            const std::string saved = dir.path() + "/out.json";
            std::ofstream(saved, std::ios::trunc) << json.out;
            const CommandResult parsed =
                run({"python3", "-c",
                     "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))", saved});
            EXPECT_EQ(parsed.exit_code, 0)
                << command[1] << " --json " << format << ": " << parsed.err;
        }
        const nlohmann::json info = json_of({dumpscope_binary(), "info", "--json", dump});
        EXPECT_EQ(info.at("process_name"), "odd\\xff\\xfe") << format;
        // The other thread's name keeps its bytes too (a minidump's ThreadNameList is UTF-16:
        // they travel in DumpscopeThreadExtra).
        bool thread_found = false;
        for (const auto& thread : json_of({dumpscope_binary(), "threads", "--json", dump})) {
            if (thread.at("tid") != program.pid()) {
                EXPECT_EQ(thread.at("name"), "t\\xfe\\xff") << format << thread.dump();
                thread_found = true;
            }
        }
        EXPECT_TRUE(thread_found) << format;
        const CommandResult info_text = run({dumpscope_binary(), "info", dump});
        EXPECT_NE(info_text.out.find("odd\\xff\\xfe"), std::string::npos) << info_text.out;
        bool main_found = false;
        for (const auto& module : json_of({dumpscope_binary(), "modules", "--json", dump})) {
            if (module.at("path") != shown_exe) continue;
            main_found = true;
            EXPECT_NE(module.at("symbol_status"), "missing") << module.dump();
        }
        EXPECT_TRUE(main_found) << format << ": no module " << shown_exe;
        const Stacks stacks = dumpscope_stacks(dump);
        ASSERT_TRUE(stacks.count(program.pid())) << format;
        EXPECT_TRUE(has_function(stacks.at(program.pid()), "main"))
            << format << describe(stacks.at(program.pid()));
    }
}

TEST(MalformedDumps, TruncatedDumpIsAOneLineErrorForEveryCommand) {
    TempDir dir;
    const std::string path = dir.path() + "/truncated.dmp";
    std::ofstream(path) << "MDMP" << std::string(40, '\0');
    for (const char* command : {"stack", "threads", "modules", "regions", "vertarget"}) {
        const CommandResult r = run({dumpscope_binary(), command, path});
        EXPECT_EQ(r.exit_code, 1) << command;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    }
}

}  // namespace
