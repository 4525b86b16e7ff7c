// glibc malloc settings for the one-shot analysis commands (analyze, heap, stack, debug, ... and
// the server's analysis child), which build vectors of hundreds of megabytes for a large heap
// (its chunks, the pointers between them). By default glibc maps each block of 128 KiB or more
// by itself and unmaps it when freed, so each doubling of a vector and each temporary copy faults
// in fresh pages: on this VM a 1 GB heap's analysis spent a fifth of its time in those faults.
// Kept in the heap instead (up to 32 MiB blocks, glibc's most) and not trimmed, freed memory is
// reused. And the heap is grown by a gigabyte of address space at once, in transparent huge pages
// (madvise(MADV_HUGEPAGE); Debian's kernels give them to who asks): a page fault costs about as
// much for 2 MiB as for 4 KiB, and on this VM (kernel 6.18, paravirtualized page tables) a 4 KiB
// fault costs 11-14 us: the heap walk of a 1 GB heap went from 0.40 s to 0.17 s. Only touched
// memory counts, but the gigabyte counts against RLIMIT_DATA (call this after setting one: a
// heap that does not fit is not grown); all threads allocate there (one arena). Not for
// long-running commands (server, agent, collect's triggers), whose memory must go back to the
// system, nor for the library, whose host owns its malloc.
#pragma once

namespace dumpscope {

void tune_malloc_for_analysis();

}  // namespace dumpscope
