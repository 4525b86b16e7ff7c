// One dump under analysis: the snapshot read from the file, the libdwfl session over it (made
// on first use: listing threads needs no symbols), the stacks already walked, and the state of a
// `dumpscope debug` session (current thread, exception context selected by .ecxr).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "analysis/dwfl_session.h"
#include "analysis/stack_model.h"
#include "analysis/symbol_locator.h"
#include "analysis/unwinder.h"
#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

class DumpAnalysis {
public:
    DumpAnalysis(Snapshot snapshot, std::string path, std::string format, SymbolOptions options);

    const Snapshot& snapshot() const { return snapshot_; }
    const std::string& path() const { return path_; }
    const std::string& format() const { return format_; }  // "minidump" or "elf-core"

    Result<DwflSession*> session();
    // The stack of thread `index` of the snapshot, at most `max_frames` deep (walked once, then
    // cached; walked again only for more frames than a cut walk gave).
    Result<const ThreadStack*> stack(size_t index, size_t max_frames = kDefaultMaxFrames);
    // The stack from the exception's registers, if the dump has an exception.
    Result<std::optional<ThreadStack>> exception_stack(size_t max_frames = kDefaultMaxFrames);

    // The thread `k` and `r` work on: the exception thread after .ecxr, else the selected one.
    size_t current_thread() const { return current_; }
    void select_thread(size_t index) {
        current_ = index;
        use_exception_context_ = false;
    }
    void select_exception_context();
    bool exception_context_selected() const { return use_exception_context_; }
    // The index of the thread with this tid, or nullopt.
    std::optional<size_t> thread_index(int32_t tid) const;

private:
    Snapshot snapshot_;
    std::string path_;
    std::string format_;
    SymbolOptions options_;
    std::unique_ptr<DwflSession> session_;
    struct Walked {
        ThreadStack stack;
        size_t max_frames = 0;  // the limit it was walked with
    };
    std::map<size_t, Walked> stacks_;
    std::optional<ThreadStack> exception_stack_;
    bool exception_walked_ = false;
    size_t exception_max_frames_ = 0;
    size_t current_ = 0;
    bool use_exception_context_ = false;
};

// Reads a minidump or an ELF core into a DumpAnalysis.
Result<std::unique_ptr<DumpAnalysis>> open_dump_analysis(const std::string& path,
                                                         const SymbolOptions& options);

}  // namespace dumpscope::analysis
