// The diagnosis words of `dumpscope debug`: !analyze (the whole report), !locks (lock waits,
// deadlocks, contention), !runaway (CPU per thread, runaway threads), !heap -s and !heap -stat
// (glibc's malloc heap walked from the dump). Registered into the
// analysis layer's word table (analysis::register_debugger_word), so analysis/ needs no upward
// include.
#pragma once

namespace dumpscope::diagnosis {

void register_debugger_words();

}  // namespace dumpscope::diagnosis
