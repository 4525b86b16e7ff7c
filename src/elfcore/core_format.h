// On-disk structures of a Linux x86-64 ELF core that <elf.h> does not spell with fixed-width
// types: the NT_PRSTATUS and NT_PRPSINFO payloads. Layouts follow the kernel's
// struct elf_prstatus / elf_prpsinfo for x86-64 (<sys/procfs.h>), checked by static_assert.
#pragma once

#include <elf.h>

#include <cstddef>
#include <cstdint>

#include "snapshot/snapshot.h"

namespace dumpscope::elfcore {

// Our own notes live in the second PT_NOTE, after all memory, under this owner name.
inline constexpr char kDumpscopeNoteName[] = "DUMPSCOPE";
// Payload: capture_record_to_json of the capture record (record_to_write, output/write_context.h).
inline constexpr uint32_t kNoteDumpscopeCapture = 0x44530002;
// Payload: process_note_to_json (core_process_note.h): what a core has no note for (uname,
// /proc texts, thread names and states, modules with build-ids, file descriptors).
inline constexpr uint32_t kNoteDumpscopeProcess = 0x44530003;
// DumpContent::user_streams, each under its own type, owner "DUMPSCOPE_USER".
inline constexpr char kUserStreamNoteName[] = "DUMPSCOPE_USER";

inline constexpr char kCoreNoteName[] = "CORE";
inline constexpr char kLinuxNoteName[] = "LINUX";  // owner of NT_X86_XSTATE

struct CoreTimeval {
    int64_t sec = 0;
    int64_t usec = 0;
};

// NT_PRSTATUS (struct elf_prstatus): this head, then pr_reg (the architecture's elf_gregset_t,
// arch::ArchOps::elf_gregset_size bytes), then CorePrStatusTail.
struct CorePrStatus {
    int32_t si_signo = 0;  // struct elf_siginfo pr_info
    int32_t si_code = 0;
    int32_t si_errno = 0;
    int16_t cursig = 0;
    uint16_t pad0 = 0;
    uint64_t sigpend = 0;
    uint64_t sighold = 0;
    int32_t pid = 0;
    int32_t ppid = 0;
    int32_t pgrp = 0;
    int32_t sid = 0;
    CoreTimeval utime;
    CoreTimeval stime;
    CoreTimeval cutime;
    CoreTimeval cstime;
};
static_assert(sizeof(CorePrStatus) == 112);
static_assert(offsetof(CorePrStatus, cursig) == 12);
static_assert(offsetof(CorePrStatus, sigpend) == 16);
static_assert(offsetof(CorePrStatus, pid) == 32);
static_assert(offsetof(CorePrStatus, utime) == 48);

struct CorePrStatusTail {
    int32_t fpvalid = 0;
    uint32_t pad1 = 0;
};
static_assert(sizeof(CorePrStatusTail) == 8);

inline constexpr size_t kPrArgsSize = 80;
inline constexpr size_t kPrFnameSize = 16;

struct CorePrPsInfo {
    char state = 0;  // numeric state: index into "RSDTZW"
    char sname = 0;  // state letter
    char zomb = 0;
    char nice = 0;
    uint32_t pad0 = 0;
    uint64_t flag = 0;  // the task's PF_* flags
    uint32_t uid = 0;
    uint32_t gid = 0;
    int32_t pid = 0;
    int32_t ppid = 0;
    int32_t pgrp = 0;
    int32_t sid = 0;
    char fname[kPrFnameSize] = {};
    char psargs[kPrArgsSize] = {};
};
static_assert(sizeof(CorePrPsInfo) == 136);
static_assert(offsetof(CorePrPsInfo, flag) == 8);
static_assert(offsetof(CorePrPsInfo, pid) == 24);
static_assert(offsetof(CorePrPsInfo, fname) == 40);
static_assert(offsetof(CorePrPsInfo, psargs) == 56);

inline constexpr size_t kSigInfoSize = 128;

static_assert(sizeof(Elf64_Ehdr) == 64);
static_assert(sizeof(Elf64_Phdr) == 56);
static_assert(sizeof(Elf64_Shdr) == 64);
static_assert(sizeof(Elf64_Nhdr) == 12);

// Note names and descriptors are padded to 4 bytes in core files (kernel, gdb, elfutils).
inline constexpr uint64_t kNoteAlign = 4;

}  // namespace dumpscope::elfcore
