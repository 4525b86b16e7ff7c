// /proc/PID/maps and the VmFlags lines of /proc/PID/smaps, as Mapping values.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// One line: "start-end perms offset major:minor inode   path". The path may contain spaces
// and ends with " (deleted)" for unlinked files; it is kept verbatim.
Result<Mapping> parse_maps_line(std::string_view line);

// Every line of a maps file, sorted by start. A malformed line is an error naming the line.
Result<std::vector<Mapping>> parse_maps(std::string_view text);

// Applies the "VmFlags:" of each smaps entry to the mapping with the same start: dc -> dont_fork,
// wf -> wipe_on_fork, io or pf -> io. Entries with no matching mapping (the process changed
// between the two reads) are ignored. `mappings` must be sorted by start.
void apply_smaps_vmflags(std::string_view smaps_text, std::vector<Mapping>& mappings);

}  // namespace dumpscope
