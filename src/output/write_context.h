// What a writer needs besides the snapshot and the content: progress, cancellation, the moment
// at which every byte of the target has been copied (so the caller can resume it), and the
// capture record to write. Writers take the snapshot as const: what they learn while writing
// (WriteRecord) goes back to the caller, never into the snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Set from a signal handler (SIGINT/SIGTERM); long loops check it and stop with an error.
std::atomic<bool>& cancel_requested();

// What a write learned that belongs in the capture record: the ranges it could not read. An
// output of the write (the snapshot is never changed): the caller merges it into the record the
// writer writes (WriteContext::capture_record).
struct WriteRecord {
    std::vector<std::string> notes;  // "0x7f..-0x7f..: N bytes could not be read ..."
};

struct WriteContext {
    // Called with (bytes of memory written so far, total bytes of memory to write).
    std::function<void(uint64_t, uint64_t)> progress;
    // Called once after the last byte of target memory has been read, before the writer
    // writes the capture record. The caller resumes the target here.
    std::function<void()> target_memory_done;
    // Called once, right after target_memory_done, with what the write noted: returns the
    // capture record to write (the caller's record with the write's notes merged in, see
    // merge_write_record). Unset: the snapshot's record with the write's notes appended.
    std::function<CaptureRecord(const WriteRecord&)> capture_record;
    // Asked before each chunk of memory is written (MiniDumpWriteDump's CancelCallback): true
    // stops the write with an error.
    std::function<bool()> cancelled;
};

// Appends the write's notes to `record`, after the notes it has.
void merge_write_record(CaptureRecord& record, const WriteRecord& written);

// The capture record a writer writes once memory is done: ctx.capture_record(written), or
// snapshot.capture with the write's notes merged in.
CaptureRecord record_to_write(const Snapshot& snapshot, const WriteContext& ctx,
                              const WriteRecord& written);

// Reads [addr, addr+out.size()) of the snapshot's memory for writing into a dump, applying
// content.zeroed. Bytes that cannot be read are zero-filled and counted in `unreadable`
// (so the writer can note them in the capture record). Returns an error only on cancellation.
Status read_dump_memory(const Snapshot& snapshot, const DumpContent& content, uint64_t addr,
                        std::span<uint8_t> out, uint64_t& unreadable);

// Streams every range of content.memory through `sink(range_index, offset_in_range, bytes)`
// in chunks of at most `chunk` bytes, reporting progress and honouring cancellation.
// Unreadable bytes are zero-filled and noted, one note per range, in the WriteRecord returned.
Result<WriteRecord> stream_dump_memory(
    const Snapshot& snapshot, const DumpContent& content, const WriteContext& ctx,
    const std::function<Status(size_t, uint64_t, std::span<const uint8_t>)>& sink);

}  // namespace dumpscope
