#include "analysis/dump_analysis.h"

#include "analysis/stack_walk.h"
#include "readers/dump_reader.h"

namespace dumpscope::analysis {

DumpAnalysis::DumpAnalysis(Snapshot snapshot, std::string path, std::string format,
                           SymbolOptions options)
    : snapshot_(std::move(snapshot)),
      path_(std::move(path)),
      format_(std::move(format)),
      options_(std::move(options)) {
    if (snapshot_.exception) {
        if (auto index = thread_index(snapshot_.exception->tid)) current_ = *index;
    }
}

Result<DwflSession*> DumpAnalysis::session() {
    if (!session_) {
        auto created = DwflSession::create(snapshot_, options_);
        if (!created.ok()) return created.error();
        session_ = std::move(*created);
    }
    return session_.get();
}

Result<const ThreadStack*> DumpAnalysis::stack(size_t index, size_t max_frames) {
    if (index >= snapshot_.threads.size()) {
        return Error{"no thread #" + std::to_string(index) + " (the dump has " +
                     std::to_string(snapshot_.threads.size()) + ")"};
    }
    auto it = stacks_.find(index);
    const bool walk_again =
        it != stacks_.end() && it->second.stack.truncated && max_frames > it->second.max_frames;
    if (it == stacks_.end() || walk_again) {
        auto s = session();
        if (!s.ok()) return s.error();
        UnwindLimits limits;
        limits.max_frames = max_frames;
        stacks_[index] = {walk_thread(**s, snapshot_.threads[index], limits), max_frames};
        it = stacks_.find(index);
    }
    return &it->second.stack;
}

Result<std::optional<ThreadStack>> DumpAnalysis::exception_stack(size_t max_frames) {
    const bool walk_again = exception_walked_ && exception_stack_ && exception_stack_->truncated &&
                            max_frames > exception_max_frames_;
    if ((!exception_walked_ || walk_again) && snapshot_.exception) {
        auto s = session();
        if (!s.ok()) return s.error();
        const ExceptionInfo& e = *snapshot_.exception;
        Thread thread;
        thread.tid = e.tid;
        if (auto index = thread_index(e.tid)) thread = snapshot_.threads[*index];
        UnwindLimits limits;
        limits.max_frames = max_frames;
        exception_stack_ = walk_registers(**s, thread, e.context, limits);
        exception_walked_ = true;
        exception_max_frames_ = max_frames;
    }
    return exception_stack_;
}

void DumpAnalysis::select_exception_context() {
    if (!snapshot_.exception) return;
    if (auto index = thread_index(snapshot_.exception->tid)) current_ = *index;
    use_exception_context_ = true;
}

std::optional<size_t> DumpAnalysis::thread_index(int32_t tid) const {
    for (size_t i = 0; i < snapshot_.threads.size(); ++i) {
        if (snapshot_.threads[i].tid == tid) return i;
    }
    return std::nullopt;
}

Result<std::unique_ptr<DumpAnalysis>> open_dump_analysis(const std::string& path,
                                                         const SymbolOptions& options) {
    std::string format;
    auto snapshot = read_dump_file(path, &format);
    if (!snapshot.ok()) return snapshot.error();
    return std::make_unique<DumpAnalysis>(std::move(*snapshot), path, format, options);
}

}  // namespace dumpscope::analysis
