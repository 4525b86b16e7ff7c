// The process-wide streams: SystemInfo, MiscInfo, ModuleList, Exception, MemoryInfoList,
// HandleData and raw byte streams (the Breakpad Linux streams, user streams). Each appends to the
// blob and returns the location of its stream.
#pragma once

#include <span>

#include "minidump/stream_blob.h"
#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

LocationDescriptor append_system_info(StreamBlob& blob, const dumpscope::SystemInfo& system);
LocationDescriptor append_misc_info(StreamBlob& blob, const ProcessInfo& process);
LocationDescriptor append_module_list(StreamBlob& blob, const Snapshot& snapshot,
                                      const DumpContent& content);
LocationDescriptor append_exception(StreamBlob& blob, const ExceptionInfo& exception);
LocationDescriptor append_memory_info_list(StreamBlob& blob, const Snapshot& snapshot);
LocationDescriptor append_handle_data(StreamBlob& blob, const Snapshot& snapshot);
LocationDescriptor append_raw_stream(StreamBlob& blob, std::span<const uint8_t> bytes);

}  // namespace dumpscope::minidump
