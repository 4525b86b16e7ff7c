// Stacks as lldb-16, gdb and dumpscope name them, for comparing the three on the same dump:
// lldb and gdb through their Python APIs (frame kinds exact: normal, inline, gdb's tail-call
// frames), dumpscope through `stack --all --json`.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

namespace test_support {

struct NamedFrame {
    std::string kind;  // "normal", "inline", "tailcall"
    std::string name;  // "" when the reader has no name for it
};
using Stacks = std::map<int, std::vector<NamedFrame>>;  // by thread id

inline std::string lldb_binary() { return have_program("lldb-16") ? "lldb-16" : "lldb"; }

// No reader may reach the network for symbols during tests (Debian sets DEBUGINFOD_URLS for
// login shells; libdebuginfod, gdb and lldb would all use it), and dumpscope's cache of
// uncompressed debug files lives in a directory of the test's own, removed at the end.
class NoDebuginfod : public ::testing::Environment {
public:
    void SetUp() override {
        ::unsetenv("DEBUGINFOD_URLS");
        cache_ = std::make_unique<TempDir>();
        ::setenv("DUMPSCOPE_CACHE_DIR", cache_->path().c_str(), 1);
    }
    void TearDown() override { cache_.reset(); }

private:
    std::unique_ptr<TempDir> cache_;
};

// "THREAD <tid> kind:name kind:name ..." lines.
inline Stacks parse_thread_lines(const std::string& text) {
    Stacks stacks;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("THREAD ", 0) != 0) continue;
        std::istringstream words(line.substr(7));
        int tid = 0;
        words >> tid;
        std::vector<NamedFrame>& frames = stacks[tid];
        for (std::string word; words >> word;) {
            const size_t colon = word.find(':');
            NamedFrame frame{word.substr(0, colon), word.substr(colon + 1)};
            if (frame.name == "None" || frame.name.rfind("___lldb_unnamed_symbol", 0) == 0) {
                frame.name.clear();
            }
            frames.push_back(frame);
        }
    }
    return stacks;
}

inline std::string write_script(const std::string& dir, const std::string& name,
                                const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    return path;
}

inline Stacks lldb_stacks(const std::string& dir, const std::string& dump,
                          const std::string& executable = "") {
    const std::string script = write_script(
        dir, "lldb_frames.py",
        "import lldb\n"
        "for t in lldb.process:\n"
        "    print('THREAD %d %s' % (t.GetThreadID(), ' '.join(('inline:' if f.IsInlined() "
        "else 'normal:') + str(f.GetFunctionName()) for f in t)))\n");
    std::vector<std::string> argv{lldb_binary(), "--no-lldbinit", "-b", "-c", dump};
    if (!executable.empty()) argv.push_back(executable);
    argv.insert(argv.end(), {"-o", "script exec(open('" + script + "').read())"});
    const CommandResult r = run(argv, 300);
    return parse_thread_lines(r.out);
}

inline Stacks gdb_stacks(const std::string& dir, const std::string& executable,
                         const std::string& core) {
    const std::string script = write_script(
        dir, "gdb_frames.py",
        "import gdb\n"
        "gdb.execute('set backtrace past-main on')\n"
        "gdb.execute('set backtrace past-entry on')\n"
        "kinds = {gdb.NORMAL_FRAME: 'normal', gdb.INLINE_FRAME: 'inline',\n"
        "         gdb.TAILCALL_FRAME: 'tailcall', gdb.SIGTRAMP_FRAME: 'sigtramp'}\n"
        "for inf in gdb.inferiors():\n"
        "    for th in inf.threads():\n"
        "        th.switch()\n"
        "        f = gdb.newest_frame()\n"
        "        names = []\n"
        "        while f is not None:\n"
        "            names.append('%s:%s' % (kinds.get(f.type(), 'other'), f.name()))\n"
        "            f = f.older()\n"
        "        print('THREAD %d %s' % (th.ptid[1], ' '.join(names)))\n");
    const CommandResult r = run({"gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off", "-ex",
                                 "source " + script, executable, core},
                                300);
    return parse_thread_lines(r.out);
}

// dumpscope's frames: for each physical frame its inlined calls (innermost first), then itself.
inline Stacks dumpscope_stacks(const std::string& dump, nlohmann::json* json_out = nullptr) {
    const CommandResult r = run({dumpscope_binary(), "stack", "--all", "--json", dump}, 300);
    Stacks stacks;
    if (r.exit_code != 0) {
        ADD_FAILURE() << "dumpscope stack failed: " << r.err;
        return stacks;
    }
    const nlohmann::json j = nlohmann::json::parse(r.out);
    for (const auto& thread : j.at("threads")) {
        std::vector<NamedFrame>& frames = stacks[thread.at("thread_id").get<int>()];
        for (const auto& frame : thread.at("frames")) {
            if (frame.contains("inlines")) {
                for (const auto& call : frame.at("inlines")) {
                    frames.push_back({"inline", call.at("function").get<std::string>()});
                }
            }
            frames.push_back({"normal", frame.at("function").is_null()
                                            ? std::string()
                                            : frame.at("function").get<std::string>()});
        }
    }
    if (json_out != nullptr) *json_out = j;
    return stacks;
}

// Names compared without leading underscores: lldb and gdb pick different aliases of assembly
// functions (__clone3 / clone3).
inline std::string plain_name(const std::string& name) {
    const size_t first = name.find_first_not_of('_');
    return first == std::string::npos ? name : name.substr(first);
}

inline std::string describe(const std::vector<NamedFrame>& frames) {
    std::string out;
    for (const NamedFrame& f : frames) out += " " + f.kind + ":" + (f.name.empty() ? "?" : f.name);
    return out;
}

// Same frames in the same order, with the same kinds and names. gdb's tail-call frames are
// left out (it infers them from call-site DWARF; lldb and minidump-stackwalk do not). A frame
// the reference cannot name matches any name of ours; ours unnamed where the reference names it
// is a mismatch.
inline ::testing::AssertionResult same_stacks(const Stacks& ours, const Stacks& reference) {
    if (ours.size() != reference.size()) {
        return ::testing::AssertionFailure()
               << "dumpscope has " << ours.size() << " threads, the reference " << reference.size();
    }
    for (const auto& [tid, theirs] : reference) {
        auto it = ours.find(tid);
        if (it == ours.end()) return ::testing::AssertionFailure() << "no thread " << tid;
        std::vector<NamedFrame> expected;
        for (const NamedFrame& f : theirs) {
            if (f.kind != "tailcall") expected.push_back(f);
        }
        const std::vector<NamedFrame>& mine = it->second;
        bool same = mine.size() == expected.size();
        for (size_t i = 0; same && i < mine.size(); ++i) {
            same = mine[i].kind == expected[i].kind &&
                   (expected[i].name.empty() ||
                    plain_name(mine[i].name) == plain_name(expected[i].name));
        }
        if (!same) {
            return ::testing::AssertionFailure()
                   << "thread " << tid << "\n  dumpscope:" << describe(mine)
                   << "\n  reference:" << describe(expected);
        }
    }
    return ::testing::AssertionSuccess();
}

// The names of every frame of a thread, for "this function is on that stack" checks.
inline bool has_function(const std::vector<NamedFrame>& frames, const std::string& name) {
    for (const NamedFrame& f : frames) {
        if (f.name == name) return true;
    }
    return false;
}

}  // namespace test_support
