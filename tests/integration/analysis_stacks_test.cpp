// dumpscope's stacks and module lists against lldb-16's and gdb's on the same dumps: the capture
// fixtures (waiters, a deadlock) and real programs (python3 with a waiting thread, a bash
// script blocked in `read`), as our
// minidumps (read by lldb) and our cores (read by gdb), and as dumps written by others (gcore's
// core, lldb's `process save-core` minidump).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>

#include "analysis_support.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

const char* const kPythonScript =
    "import threading, os, time\n"
    "event = threading.Event()\n"
    "worker = threading.Thread(target=event.wait, name='worker')\n"
    "worker.start()\n"
    "print('{\"pid\": %d}' % os.getpid(), flush=True)\n"
    "time.sleep(3600)\n";

// bash blocked in its `read` builtin on a pipe it holds both ends of (no child to leave behind).
const char* const kBashScript = "exec 3<> <(:); echo \"{\\\"pid\\\": $$}\"; read -r -u 3 line";

// A running target: one of the fixtures, python3 or bash.
struct Target {
    std::unique_ptr<Fixture> fixture;
    std::unique_ptr<Program> program;
    std::string executable;
    pid_t pid() const { return fixture ? fixture->pid() : program->pid(); }
};

std::unique_ptr<Target> start(const std::string& name) {
    auto target = std::make_unique<Target>();
    if (name == "python3") {
        target->program = std::make_unique<Program>(
            std::vector<std::string>{"/usr/bin/python3", "-c", kPythonScript});
        target->executable = "/usr/bin/python3";
    } else if (name == "bash") {
        target->program =
            std::make_unique<Program>(std::vector<std::string>{"/bin/bash", "-c", kBashScript});
        target->executable = "/bin/bash";
    } else {
        target->fixture = std::make_unique<Fixture>(name);
        target->executable = target->fixture->path();
    }
    return target;
}

class AnalysisStacks : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "python3" && !have_program("/usr/bin/python3")) {
            GTEST_SKIP() << "no /usr/bin/python3";
        }
        if (GetParam() == "bash" && !have_program("/bin/bash")) GTEST_SKIP() << "no /bin/bash";
        target_ = start(GetParam());
    }
    std::string collect(const std::string& type, const std::string& format) {
        return collect_into(dir_.path(), target_->pid(), type, format);
    }
    std::unique_ptr<Target> target_;
    TempDir dir_;
};

TEST_P(AnalysisStacks, MinidumpStacksMatchLldb) {
    if (!have_program(lldb_binary())) GTEST_SKIP() << "lldb is not installed (make deps)";
    const std::string dump = collect("mini", "minidump");
    const Stacks ours = dumpscope_stacks(dump);
    ASSERT_GE(ours.size(), GetParam() == "bash" ? 1u : 2u);
    EXPECT_TRUE(same_stacks(ours, lldb_stacks(dir_.path(), dump)));
}

TEST_P(AnalysisStacks, CoreStacksMatchGdb) {
    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed (make deps)";
    const std::string core = collect("mini", "core");
    const Stacks ours = dumpscope_stacks(core);
    ASSERT_GE(ours.size(), GetParam() == "bash" ? 1u : 2u);
    EXPECT_TRUE(same_stacks(ours, gdb_stacks(dir_.path(), target_->executable, core)));
}

TEST_P(AnalysisStacks, GcoreCoresGiveTheSameStacksAsOurDumps) {
    if (!have_program("gcore")) GTEST_SKIP() << "gcore is not installed (make deps)";
    const std::string ours = collect("mini", "core");
    const std::string prefix = dir_.path() + "/gcore";
    const CommandResult r = run({"gcore", "-o", prefix, std::to_string(target_->pid())}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string gcore = prefix + "." + std::to_string(target_->pid());
    const Stacks from_gcore = dumpscope_stacks(gcore);
    EXPECT_TRUE(same_stacks(from_gcore, dumpscope_stacks(ours)));
    EXPECT_TRUE(same_stacks(from_gcore, gdb_stacks(dir_.path(), target_->executable, gcore)));
}

TEST_P(AnalysisStacks, LldbSaveCoreMinidumpsGiveTheSameStacksAsOurDumps) {
    if (!have_program(lldb_binary())) GTEST_SKIP() << "lldb is not installed (make deps)";
    const std::string ours = collect("mini", "minidump");
    const std::string saved = dir_.path() + "/lldb.dmp";
    const CommandResult r =
        run({lldb_binary(), "--no-lldbinit", "-b", "-p", std::to_string(target_->pid()), "-o",
             "process save-core --plugin-name=minidump --style stack " + saved},
            300);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Stacks from_lldb_dump = dumpscope_stacks(saved);
    EXPECT_TRUE(same_stacks(from_lldb_dump, dumpscope_stacks(ours)));
    EXPECT_TRUE(same_stacks(from_lldb_dump, lldb_stacks(dir_.path(), saved)));
}

std::set<std::string> base_names(const std::set<std::string>& paths) {
    std::set<std::string> names;
    for (const std::string& p : paths) {
        const std::string name = p.substr(p.rfind('/') + 1);
        if (name.find("vdso") == std::string::npos) names.insert(name);
    }
    return names;
}

std::set<std::string> dumpscope_modules(const std::string& dump) {
    const CommandResult r = run({dumpscope_binary(), "modules", "--json", dump});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> paths;
    for (const auto& m : nlohmann::json::parse(r.out))
        paths.insert(m.at("path").get<std::string>());
    return base_names(paths);
}

TEST_P(AnalysisStacks, ModuleListsMatchLldbAndGdb) {
    const std::string dump = collect("maxi", "minidump");
    const std::string core = collect("maxi", "core");
    if (have_program(lldb_binary())) {
        const std::string script = write_script(
            dir_.path(), "lldb_modules.py",
            "import lldb\nfor m in lldb.target.modules:\n    print('MODULE', m.file.fullpath)\n");
        const CommandResult r = run({lldb_binary(), "--no-lldbinit", "-b", "-c", dump, "-o",
                                     "script exec(open('" + script + "').read())"},
                                    300);
        std::set<std::string> paths;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("MODULE ", 0) == 0) paths.insert(line.substr(7));
        }
        EXPECT_EQ(dumpscope_modules(dump), base_names(paths)) << r.out;
    }
    if (have_program("gdb")) {
        const CommandResult r = run({"gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off",
                                     "-ex", "info sharedlibrary", target_->executable, core},
                                    300);
        std::set<std::string> paths{target_->executable};
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) {
            const size_t slash = line.find(" /");
            if (line.rfind("0x", 0) == 0 && slash != std::string::npos) {
                paths.insert(line.substr(slash + 1));
            }
        }
        // gdb names libraries by the link the loader opened (libz.so.1), the maps by the file.
        std::set<std::string> resolved;
        for (const std::string& p : paths) {
            std::error_code error;
            const auto real = std::filesystem::canonical(p, error);
            resolved.insert(error ? p : real.string());
        }
        EXPECT_EQ(dumpscope_modules(core), base_names(resolved)) << r.out;
    }
}

// A 2000-deep recursion: every frame is walked (as many as gdb walks on the same core), the
// text folds the recursion into one line, --max-frames 100 gives 100 frames and says the stack
// was cut, in text and JSON.
TEST(DeepStacks, TheWholeRecursionIsWalkedFoldedAndCutOnlyWhenAsked) {
    Fixture fixture("fixture_deep_recursion", {"2000"});
    TempDir dir;
    const std::string core = collect_into(dir.path(), fixture.pid(), "mini", "core");
    nlohmann::json json;
    const Stacks stacks = dumpscope_stacks(core, &json);
    ASSERT_EQ(stacks.size(), 1u);
    const std::vector<NamedFrame>& frames = stacks.begin()->second;
    const auto burrows = std::count_if(frames.begin(), frames.end(),
                                       [](const NamedFrame& f) { return f.name == "burrow"; });
    EXPECT_EQ(burrows, 2000);
    EXPECT_TRUE(has_function(frames, "main"));
    EXPECT_FALSE(json.at("threads").at(0).at("truncated").get<bool>());
    EXPECT_EQ(json.at("threads").at(0).at("frame_count").get<size_t>(), frames.size());
    if (have_program("gdb")) {
        const Stacks reference = gdb_stacks(dir.path(), fixture.path(), core);
        ASSERT_EQ(reference.size(), 1u);
        const auto difference =
            static_cast<long>(frames.size()) - static_cast<long>(reference.begin()->second.size());
        EXPECT_LE(std::abs(difference), 2) << "gdb walks " << reference.begin()->second.size()
                                           << " frames, dumpscope " << frames.size();
        EXPECT_TRUE(same_stacks(stacks, reference));
    }

    const CommandResult text = run({dumpscope_binary(), "stack", core}, 300);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find(": burrow, 1999 more times"), std::string::npos) << text.out;
    EXPECT_LT(std::count(text.out.begin(), text.out.end(), '\n'), 20) << text.out;
    EXPECT_EQ(text.out.find("truncated"), std::string::npos) << text.out;

    const CommandResult cut = run({dumpscope_binary(), "stack", "--max-frames", "100", core}, 300);
    ASSERT_EQ(cut.exit_code, 0) << cut.err;
    EXPECT_NE(cut.out.find("truncated: the stack goes on past frame 100"), std::string::npos)
        << cut.out;
    const CommandResult cut_json =
        run({dumpscope_binary(), "stack", "--json", "--max-frames", "100", core}, 300);
    ASSERT_EQ(cut_json.exit_code, 0) << cut_json.err;
    const nlohmann::json limited = nlohmann::json::parse(cut_json.out);
    EXPECT_EQ(limited.at("threads").at(0).at("frames").size(), 100u);
    EXPECT_TRUE(limited.at("threads").at(0).at("truncated").get<bool>());

    const CommandResult shell = run({dumpscope_binary(), "debug", "-c", "k 5", core}, 300);
    ASSERT_EQ(shell.exit_code, 0) << shell.err;
    EXPECT_NE(shell.out.find("truncated: the stack goes on past frame 5"), std::string::npos)
        << shell.out;
}

INSTANTIATE_TEST_SUITE_P(Targets, AnalysisStacks,
                         ::testing::Values("fixture_waiters", "fixture_deadlock", "python3",
                                           "bash"));

}  // namespace
