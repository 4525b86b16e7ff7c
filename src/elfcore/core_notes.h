// The payloads of the two PT_NOTE segments of our ELF cores.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::elfcore {

// First PT_NOTE, in the kernel's order: for the first thread (the exception thread when the
// exception is included, else content.threads[0]) NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO (only
// with a signal), NT_AUXV, NT_FILE, NT_FPREGSET, NT_X86_XSTATE; then NT_PRSTATUS, NT_FPREGSET,
// NT_X86_XSTATE for every other thread.
Result<std::vector<uint8_t>> build_process_notes(const Snapshot& snapshot,
                                                 const DumpContent& content);

// Second PT_NOTE, written after all memory: the capture record `record` and the process note
// (owner "DUMPSCOPE", core_process_note.h) and the content's user streams (owner
// "DUMPSCOPE_USER", note type = stream type).
Result<std::vector<uint8_t>> build_trailing_notes(const CaptureRecord& record,
                                                  const Snapshot& snapshot,
                                                  const DumpContent& content);

// The page size the core describes: snapshot.system.page_size when it is a sane power of two.
uint64_t core_page_size(const Snapshot& snapshot);

}  // namespace dumpscope::elfcore
