// The few /proc/PID/stat and /proc/PID/status fields the NT_PRSTATUS / NT_PRPSINFO notes need
// that the snapshot model does not carry as fields of their own.
#pragma once

#include <cstdint>
#include <string_view>

namespace dumpscope::elfcore {

struct ProcStatFields {
    int32_t pgrp = 0;
    int32_t session = 0;
    uint64_t flags = 0;         // PF_* task flags
    uint64_t cutime_ticks = 0;  // waited-for children's user time, clock ticks
    uint64_t cstime_ticks = 0;
};

// Parses the text of /proc/PID/stat; fields it cannot find stay zero.
ProcStatFields parse_proc_stat(std::string_view stat);

struct ProcSignalMasks {
    uint64_t pending = 0;  // SigPnd (the thread's own pending set)
    uint64_t blocked = 0;  // SigBlk
};

// Parses SigPnd and SigBlk out of the text of /proc/PID/status.
ProcSignalMasks parse_proc_status_signals(std::string_view status);

}  // namespace dumpscope::elfcore
