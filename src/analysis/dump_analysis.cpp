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

Result<const ThreadStack*> DumpAnalysis::stack(size_t index) {
    if (index >= snapshot_.threads.size()) {
        return Error{"no thread #" + std::to_string(index) + " (the dump has " +
                     std::to_string(snapshot_.threads.size()) + ")"};
    }
    auto it = stacks_.find(index);
    if (it == stacks_.end()) {
        auto s = session();
        if (!s.ok()) return s.error();
        it = stacks_.emplace(index, walk_thread(**s, snapshot_.threads[index])).first;
    }
    return &it->second;
}

Result<std::optional<ThreadStack>> DumpAnalysis::exception_stack() {
    if (!exception_walked_ && snapshot_.exception) {
        auto s = session();
        if (!s.ok()) return s.error();
        const ExceptionInfo& e = *snapshot_.exception;
        Thread thread;
        thread.tid = e.tid;
        if (auto index = thread_index(e.tid)) thread = snapshot_.threads[*index];
        exception_stack_ = walk_registers(**s, thread, e.context);
        exception_walked_ = true;
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
