// What a writer needs besides the snapshot and the content: progress, cancellation, and the
// moment at which every byte of the target has been copied (so the caller can resume it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>

#include "common/result.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Set from a signal handler (SIGINT/SIGTERM); long loops check it and stop with an error.
std::atomic<bool>& cancel_requested();

struct WriteContext {
    // Called with (bytes of memory written so far, total bytes of memory to write).
    std::function<void(uint64_t, uint64_t)> progress;
    // Called once after the last byte of target memory has been read, before the writer
    // writes the capture record. The caller resumes the target here and fills pause_ms.
    std::function<void()> target_memory_done;
};

// Reads [addr, addr+out.size()) of the snapshot's memory for writing into a dump, applying
// content.zeroed. Bytes that cannot be read are zero-filled and reported in `unreadable`
// (so the writer can note them in the capture record). Returns an error only on cancellation.
Status read_dump_memory(const Snapshot& snapshot, const DumpContent& content, uint64_t addr,
                        std::span<uint8_t> out, uint64_t& unreadable);

// Streams every range of content.memory through `sink(range_index, offset_in_range, bytes)`
// in chunks of at most `chunk` bytes, reporting progress and honouring cancellation.
// Unreadable bytes are zero-filled and noted in snapshot.capture.notes.
Status stream_dump_memory(
    Snapshot& snapshot, const DumpContent& content, const WriteContext& ctx,
    const std::function<Status(size_t, uint64_t, std::span<const uint8_t>)>& sink);

}  // namespace dumpscope
