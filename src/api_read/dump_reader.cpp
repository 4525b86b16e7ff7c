// dumpscope::Dump: the read half of the library. Built on readers/ and analysis/ only: it
// needs no ptrace and links nothing of live/.
#include <fmt/format.h>

#include <algorithm>
#include <dumpscope/dumpscope.hpp>

#include "analysis/dump_analysis.h"
#include "api_read/annotation_table.h"
#include "common/hex.h"
#include "minidump/minidump_file.h"
#include "procfs/signal_names.h"

namespace dumpscope {

struct Dump::State {
    std::unique_ptr<analysis::DumpAnalysis> analysis;
    std::optional<minidump::MinidumpFile> minidump;
};

Dump::Dump(std::unique_ptr<State> state) : state_(std::move(state)) {}
Dump::~Dump() = default;

Outcome Dump::open(const std::string& path, std::unique_ptr<Dump>& dump) {
    auto analysis = analysis::open_dump_analysis(path, analysis::SymbolOptions{});
    if (!analysis.ok()) return Outcome::failure(analysis.error().message);
    auto state = std::make_unique<State>();
    state->analysis = std::move(*analysis);
    if (state->analysis->format() == "minidump") {
        auto file = minidump::MinidumpFile::open(path);
        if (!file.ok()) return Outcome::failure(file.error().message);
        state->minidump.emplace(std::move(*file));
    }
    dump.reset(new Dump(std::move(state)));
    return Outcome::success();
}

std::string Dump::format() const { return state_->analysis->format(); }

int32_t Dump::pid() const { return state_->analysis->snapshot().process.pid; }

std::vector<DumpThread> Dump::threads() const {
    std::vector<DumpThread> out;
    for (const Thread& t : state_->analysis->snapshot().threads)
        out.push_back({t.tid, t.name, t.regs.pc(), t.regs.sp()});
    return out;
}

std::vector<DumpModule> Dump::modules() const {
    std::vector<DumpModule> out;
    for (const Module& m : state_->analysis->snapshot().modules) {
        out.push_back({m.path, m.base, m.size(), to_hex(m.build_id)});
    }
    return out;
}

std::optional<DumpException> Dump::exception() const {
    const auto& e = state_->analysis->snapshot().exception;
    if (!e) return std::nullopt;
    return DumpException{e->tid, e->signal.signo, e->signal.code, e->signal.fault_address,
                         signal_name(e->signal.signo)};
}

std::optional<std::span<const uint8_t>> Dump::stream(uint32_t type) const {
    if (!state_->minidump) return std::nullopt;
    return state_->minidump->stream(static_cast<minidump::StreamType>(type));
}

std::vector<std::pair<std::string, std::string>> Dump::annotations() const {
    auto bytes = stream(kAnnotationsStreamType);
    if (!bytes) return {};
    auto decoded = decode_annotations_stream(*bytes);
    return decoded.ok() ? std::move(*decoded) : std::vector<std::pair<std::string, std::string>>{};
}

size_t Dump::read_memory(uint64_t address, std::span<uint8_t> out) const {
    const Snapshot& snapshot = state_->analysis->snapshot();
    if (!snapshot.memory) return 0;
    auto got = snapshot.memory->read(address, out);
    return got.ok() ? *got : 0;
}

Outcome Dump::stack(int32_t tid, std::vector<StackFrame>& frames, size_t max_frames) const {
    analysis::DumpAnalysis& a = *state_->analysis;
    const analysis::ThreadStack* walked = nullptr;
    std::optional<analysis::ThreadStack> exception_stack;
    const auto& e = a.snapshot().exception;
    if (e && e->tid == tid) {
        auto s = a.exception_stack(max_frames);
        if (!s.ok()) return Outcome::failure(s.error().message);
        exception_stack = std::move(*s);
        if (exception_stack) walked = &*exception_stack;
    }
    if (walked == nullptr) {
        auto index = a.thread_index(tid);
        if (!index) return Outcome::failure(fmt::format("no thread {} in the dump", tid));
        auto s = a.stack(*index, max_frames);
        if (!s.ok()) return Outcome::failure(s.error().message);
        walked = *s;
    }
    frames.clear();
    for (const analysis::Frame& f : walked->frames) {
        StackFrame out;
        out.pc = f.pc;
        out.module = f.module;
        out.function = f.function;
        out.offset = f.function.empty() ? f.module_offset() : f.function_offset;
        out.file = f.file;
        out.line = f.line;
        frames.push_back(std::move(out));
    }
    return Outcome::success();
}

}  // namespace dumpscope
