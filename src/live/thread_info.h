// One stopped thread of a live snapshot: name, state, registers, system call, times, stack.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// `snapshot.mappings` must be filled (sorted) for the stack range. Returns nullopt when the
// thread died since it was stopped (killed with SIGKILL); an Error for other failures.
Result<std::optional<Thread>> read_stopped_thread(int32_t pid, int32_t tid, char state_before,
                                                  const Snapshot& snapshot);

}  // namespace dumpscope
