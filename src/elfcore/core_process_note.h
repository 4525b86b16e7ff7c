// dumpscope's DUMPSCOPE/kNoteDumpscopeProcess note: the parts of a snapshot an ELF core has no
// standard note for, as JSON, so that a core written by dumpscope reads back into the same
// snapshot a minidump of the same capture does (uname and cpuinfo, the /proc texts with the exact
// mappings, thread names, states and system calls, modules with build-ids, file descriptors).
// Field names are documented in docs/streams.md.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::elfcore {

struct ProcessNote {
    SystemInfo system;
    ProcessInfo process;          // auxv stays in NT_AUXV
    std::vector<Thread> threads;  // everything but registers
    std::vector<Module> modules;
    std::vector<FileDescriptor> fds;
};

// The threads and modules of `content`; the /proc texts only when content has the optional
// Linux streams, the environment only when it is not omitted (as the minidump writer does).
std::string process_note_to_json(const Snapshot& snapshot, const DumpContent& content);
Result<ProcessNote> process_note_from_json(const std::string& text);

// Fills what the note knows into a snapshot read from the core's standard notes: system,
// process texts, per-thread facts (by tid), modules, descriptors, and the mappings of the maps
// text (exact, where PT_LOAD segments may split a mapping).
Status apply_process_note(const ProcessNote& note, Snapshot& snapshot);

}  // namespace dumpscope::elfcore
