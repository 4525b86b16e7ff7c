// The detector pipeline: each detector looks at the facts of one dump (or, for the detectors
// that compare, of several dumps of one process) and appends findings. A new detector (the heap
// walk, say) is one function and one line in detectors() (pipeline.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analysis/dump_analysis.h"
#include "diagnosis/finding.h"
#include "diagnosis/thread_wait.h"

namespace dumpscope::diagnosis {

struct MemoryFacts;  // memory_facts.h

// What every detector of one dump starts from.
struct DumpFacts {
    analysis::DumpAnalysis* dump = nullptr;
    std::vector<ThreadWait> waits;   // one per thread of the snapshot, in its order
    std::vector<std::string> notes;  // what this dump lacks for a detector (and which type has it)

    const Snapshot& snapshot() const { return dump->snapshot(); }
    const ThreadWait* wait_of(int32_t tid) const;
    // The walked stack of thread `tid` (empty frames when it cannot be walked).
    const std::vector<analysis::Frame>& frames_of(int32_t tid);
    // The heap walk and what it found, gathered on first use (memory.cpp).
    const MemoryFacts& memory();

private:
    std::vector<analysis::Frame> no_frames_;
    std::shared_ptr<const MemoryFacts> memory_;
};

struct Detector {
    const char* name;
    // Findings of one dump; null when the detector only compares dumps.
    void (*per_dump)(DumpFacts& facts, std::vector<Finding>& out);
    // Findings from several dumps given in order; null when it looks at one dump at a time.
    void (*across_dumps)(std::vector<DumpFacts>& dumps, std::vector<Finding>& out);
};

// Every detector, in the order they run.
const std::vector<Detector>& detectors();

void detect_crash(DumpFacts& facts, std::vector<Finding>& out);    // crash.cpp
void detect_locks(DumpFacts& facts, std::vector<Finding>& out);    // locks.cpp
void detect_hang(DumpFacts& facts, std::vector<Finding>& out);     // hang.cpp
void detect_runaway(DumpFacts& facts, std::vector<Finding>& out);  // runaway.cpp
void detect_runaway_between(std::vector<DumpFacts>& dumps, std::vector<Finding>& out);
void detect_memory(DumpFacts& facts, std::vector<Finding>& out);  // memory.cpp
void detect_memory_growth(std::vector<DumpFacts>& dumps, std::vector<Finding>& out);

}  // namespace dumpscope::diagnosis
