// The read half of the library from C++: open any dump (minidump or ELF core, plain or
// zstd-compressed), print its exception, the crashing thread's stack, the annotations and
// the user streams. Links only libdumpscope_read (no ptrace).
//
//   read_dump DUMP [STREAM_TYPE]
//
// Build: c++ -std=c++20 read_dump.cpp -ldumpscope_read  (or CMake: dumpscope::read)
#include <cstdio>
#include <cstdlib>
#include <dumpscope/dumpscope.hpp>
#include <memory>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s DUMP [STREAM_TYPE]\n", argv[0]);
        return 2;
    }
    std::unique_ptr<dumpscope::Dump> dump;
    if (dumpscope::Outcome opened = dumpscope::Dump::open(argv[1], dump); !opened) {
        std::fprintf(stderr, "read_dump: %s\n", opened.error().c_str());
        return 1;
    }
    std::printf("%s of process %d: %zu threads, %zu modules\n", dump->format().c_str(), dump->pid(),
                dump->threads().size(), dump->modules().size());
    int32_t tid = dump->threads().empty() ? 0 : dump->threads().front().tid;
    if (auto e = dump->exception()) {
        std::printf("exception: %s (code %d) at %#llx in thread %d\n", e->signal_name.c_str(),
                    e->code, static_cast<unsigned long long>(e->address), e->tid);
        tid = e->tid;
    }
    std::vector<dumpscope::StackFrame> frames;
    if (dumpscope::Outcome walked = dump->stack(tid, frames, 64); !walked) {
        std::fprintf(stderr, "read_dump: %s\n", walked.error().c_str());
        return 1;
    }
    for (size_t i = 0; i < frames.size(); ++i) {
        const dumpscope::StackFrame& f = frames[i];
        std::printf("  #%zu %#llx %s!%s+%#llx\n", i, static_cast<unsigned long long>(f.pc),
                    f.module.c_str(), f.function.empty() ? "?" : f.function.c_str(),
                    static_cast<unsigned long long>(f.offset));
    }
    for (const auto& [key, value] : dump->annotations())
        std::printf("annotation %s=%s\n", key.c_str(), value.c_str());
    if (argc == 3) {
        const auto type = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 0));
        auto stream = dump->stream(type);
        if (!stream) {
            std::printf("no stream %#x\n", type);
            return 1;
        }
        std::printf("stream %#x: %zu bytes\n", type, stream->size());
    }
    return 0;
}
