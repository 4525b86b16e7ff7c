#include "api/signal_exception.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "arch/x86_64.h"
#include "monitor/signal_info.h"

namespace dumpscope {

Result<std::vector<uint8_t>> read_exact(const Snapshot& snapshot, uint64_t address, size_t size,
                                        const char* what) {
    std::vector<uint8_t> bytes(size);
    if (!snapshot.memory) return Error{"no memory to read the " + std::string(what) + " from"};
    auto got = snapshot.memory->read(address, bytes);
    if (!got.ok() || *got != size)
        return Error{fmt::format("cannot read the {} at {:#x} ({} bytes) in process {}", what,
                                 address, size, snapshot.process.pid)};
    return bytes;
}

Status add_signal_exception(Snapshot& snapshot, int32_t tid, std::span<const uint8_t> siginfo,
                            std::span<const uint8_t> ucontext) {
    auto thread = std::find_if(snapshot.threads.begin(), snapshot.threads.end(),
                               [tid](const Thread& t) { return t.tid == tid; });
    if (thread == snapshot.threads.end())
        return Error{fmt::format("thread {} of the exception is not a thread of process {}", tid,
                                 snapshot.process.pid)};
    if (siginfo.size() < sizeof(siginfo_t))
        return Error{fmt::format("the siginfo_t is {} bytes ({} expected)", siginfo.size(),
                                 sizeof(siginfo_t))};
    siginfo_t si;
    std::memcpy(&si, siginfo.data(), sizeof si);
    auto read = [&snapshot](uint64_t address, std::span<uint8_t> out) -> size_t {
        if (!snapshot.memory) return 0;
        auto got = snapshot.memory->read(address, out);
        return got.ok() ? *got : 0;
    };
    auto context = arch::x86_64::context_from_ucontext(ucontext, thread->regs, read);
    if (!context)
        return Error{fmt::format("the ucontext_t is {} bytes ({} expected)", ucontext.size(),
                                 arch::x86_64::ucontext_size())};
    ExceptionInfo exception;
    exception.tid = tid;
    exception.signal = signal_info_from(si);
    exception.context = std::move(*context);
    snapshot.exception = std::move(exception);
    return {};
}

}  // namespace dumpscope
