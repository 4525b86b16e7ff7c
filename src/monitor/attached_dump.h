// A dump of a process the monitor holds under ptrace (signal, crash and exit triggers, and
// /proc triggers while attached): stop every other thread, snapshot, add the exception of the
// thread held at its signal, write through write_snapshot_dump, resume what was stopped.
#pragma once

#include <cstdint>

#include "capture/collect_job.h"
#include "common/result.h"
#include "monitor/traced_process.h"

namespace dumpscope {

// `signal_tid`: a thread stopped at a signal-delivery-stop whose siginfo and registers become
// the dump's exception (0: no exception). The thread stays stopped for the caller to resume
// or detach with its signal. request.target is ignored (the traced process is the target).
Result<CollectResult> dump_attached(TracedProcess& traced, const CollectRequest& request,
                                    int32_t signal_tid);

}  // namespace dumpscope
