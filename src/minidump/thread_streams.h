// The per-thread streams: ThreadList (with one AMD64 context per thread), ThreadNameList,
// ThreadInfoList and dumpscope's ThreadExtra. Each appends to the blob and returns the location
// of its stream.
#pragma once

#include <cstdint>
#include <vector>

#include "minidump/stream_blob.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

// A thread's Stack descriptor refers to bytes of content.memory whose file offset is known only
// once the memory data is placed: the writer patches `descriptor_offset` then.
struct StackReference {
    uint64_t descriptor_offset = 0;  // absolute offset of the thread's MemoryDescriptor
    size_t range_index = 0;          // index into content.memory of the range holding sp
    MemoryRange stack;               // the part of that range the descriptor covers
};

// The part of content.memory's range `range_index` (which holds sp) that is the thread's stack:
// the range clipped to the thread's stack mapping, so that a range merged from adjacent mappings
// does not make the stack descriptor cover them all.
MemoryRange stack_part_of_range(const dumpscope::Thread& thread, const MemoryRange& range);

LocationDescriptor append_thread_list(StreamBlob& blob, const Snapshot& snapshot,
                                      const DumpContent& content,
                                      std::vector<StackReference>& stacks);

bool has_thread_names(const Snapshot& snapshot, const DumpContent& content);
LocationDescriptor append_thread_name_list(StreamBlob& blob, const Snapshot& snapshot,
                                           const DumpContent& content);

LocationDescriptor append_thread_info_list(StreamBlob& blob, const Snapshot& snapshot,
                                           const DumpContent& content);

LocationDescriptor append_thread_extra(StreamBlob& blob, const Snapshot& snapshot,
                                       const DumpContent& content);

// Index of the range of content.memory that contains addr, or -1.
long find_memory_range(const DumpContent& content, uint64_t addr);

}  // namespace dumpscope::minidump
