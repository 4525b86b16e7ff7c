/* dumpscope: MiniDumpWriteDump for Linux, and an in-process crash handler.
 *
 * The C API, shaped like DbgHelp's: dumpscope_write_dump() takes MiniDumpWriteDump's
 * parameters in its order, with MINIDUMP_TYPE bits, user streams and a callback routine of
 * Windows' values and names; dumpscope_read_dump_stream() is MiniDumpReadDumpStream with a
 * size. It wraps the C++ API of <dumpscope/dumpscope.hpp>. docs/library.md has the details.
 *
 * Errors: functions that return int return non-zero on success and 0 on failure;
 * dumpscope_last_error() then says why (per thread).
 */
#ifndef DUMPSCOPE_DUMPSCOPE_H
#define DUMPSCOPE_DUMPSCOPE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucontext.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DUMPSCOPE_VERSION_MAJOR 0
#define DUMPSCOPE_VERSION_MINOR 1

/* MINIDUMP_TYPE: Windows' names and values. `dumpscope collect --list-flags` and
 * docs/dump-types.md say what each means on Linux. */
enum dumpscope_minidump_type {
    MiniDumpNormal = 0x00000000,
    MiniDumpWithDataSegs = 0x00000001,
    MiniDumpWithFullMemory = 0x00000002,
    MiniDumpWithHandleData = 0x00000004,
    MiniDumpFilterMemory = 0x00000008,
    MiniDumpScanMemory = 0x00000010,
    MiniDumpWithUnloadedModules = 0x00000020,
    MiniDumpWithIndirectlyReferencedMemory = 0x00000040,
    MiniDumpFilterModulePaths = 0x00000080,
    MiniDumpWithProcessThreadData = 0x00000100,
    MiniDumpWithPrivateReadWriteMemory = 0x00000200,
    MiniDumpWithoutOptionalData = 0x00000400,
    MiniDumpWithFullMemoryInfo = 0x00000800,
    MiniDumpWithThreadInfo = 0x00001000,
    MiniDumpWithCodeSegs = 0x00002000,
    MiniDumpWithoutAuxiliaryState = 0x00004000,
    MiniDumpWithFullAuxiliaryState = 0x00008000,
    MiniDumpWithPrivateWriteCopyMemory = 0x00010000,
    MiniDumpIgnoreInaccessibleMemory = 0x00020000,
    MiniDumpWithTokenInformation = 0x00040000,
    MiniDumpWithModuleHeaders = 0x00080000,
    MiniDumpFilterTriage = 0x00100000,
    MiniDumpWithAvxXStateContext = 0x00200000,
    MiniDumpWithIptTrace = 0x00400000,
    MiniDumpScanInaccessiblePartialPages = 0x00800000
};

/* MINIDUMP_CALLBACK_TYPE: Windows' values. dumpscope calls IncludeThreadCallback and
 * IncludeModuleCallback first, then ModuleCallback, ThreadCallback, MemoryCallback until it adds
 * nothing, and CancelCallback between steps and while memory is written. */
enum dumpscope_callback_type {
    ModuleCallback = 0,
    ThreadCallback = 1,
    ThreadExCallback = 2,
    IncludeThreadCallback = 3,
    IncludeModuleCallback = 4,
    MemoryCallback = 5,
    CancelCallback = 6
};

/* MODULE_WRITE_FLAGS and THREAD_WRITE_FLAGS: a callback may clear flags, never set them. */
enum dumpscope_module_write_flags {
    ModuleWriteModule = 0x0001,
    ModuleWriteDataSeg = 0x0002,
    ModuleWriteMiscRecord = 0x0004,
    ModuleWriteCvRecord = 0x0008,
    ModuleReferencedByMemory = 0x0010,
    ModuleWriteTlsData = 0x0020,
    ModuleWriteCodeSegs = 0x0040
};
enum dumpscope_thread_write_flags {
    ThreadWriteThread = 0x0001,
    ThreadWriteStack = 0x0002,
    ThreadWriteContext = 0x0004,
    ThreadWriteBackingStore = 0x0008,
    ThreadWriteInstructionWindow = 0x0010,
    ThreadWriteThreadData = 0x0020,
    ThreadWriteThreadInfo = 0x0040
};

/* A thread's integer registers at the moment it was stopped (x86-64), named as CONTEXT's. */
typedef struct dumpscope_context {
    uint64_t Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    uint64_t R8, R9, R10, R11, R12, R13, R14, R15;
    uint64_t Rip;
    uint64_t EFlags;
    uint64_t FsBase, GsBase;
    uint16_t SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
} dumpscope_context;

typedef struct dumpscope_thread_callback {
    uint32_t ThreadId;         /* the Linux thread id */
    dumpscope_context Context; /* its registers */
    uint32_t SizeOfContext;    /* sizeof(dumpscope_context) */
    uint64_t StackBase;        /* lowest address of the stack memory the dump would hold */
    uint64_t StackEnd;         /* one past its highest address (the top of the stack) */
} dumpscope_thread_callback;

typedef struct dumpscope_include_thread_callback {
    uint32_t ThreadId;
} dumpscope_include_thread_callback;

typedef struct dumpscope_module_callback {
    const char* FullPath; /* the file's path (UTF-8), valid during the call */
    uint64_t BaseOfImage;
    uint32_t SizeOfImage;
    uint32_t BuildIdSize;   /* NT_GNU_BUILD_ID, 0 if none */
    const uint8_t* BuildId; /* valid during the call */
} dumpscope_module_callback;

typedef struct dumpscope_include_module_callback {
    uint64_t BaseOfImage;
} dumpscope_include_module_callback;

typedef struct dumpscope_callback_input {
    pid_t ProcessId;
    uint32_t CallbackType; /* enum dumpscope_callback_type */
    union {
        dumpscope_thread_callback Thread;
        dumpscope_module_callback Module;
        dumpscope_include_thread_callback IncludeThread;
        dumpscope_include_module_callback IncludeModule;
    };
} dumpscope_callback_input;

typedef struct dumpscope_callback_output {
    union {
        uint32_t ModuleWriteFlags; /* ModuleCallback, IncludeModuleCallback */
        uint32_t ThreadWriteFlags; /* ThreadCallback, IncludeThreadCallback */
    };
    uint64_t MemoryBase; /* MemoryCallback: one more range; size 0 ends */
    uint32_t MemorySize;
    int CheckCancel; /* CancelCallback (both 0 on entry): non-zero to be called again later */
    int Cancel;      /* CancelCallback: non-zero to stop, write nothing and fail */
} dumpscope_callback_output;

/* Return 0 from IncludeThreadCallback / IncludeModuleCallback / ThreadCallback /
 * ModuleCallback to leave the thread or module out; from MemoryCallback to say there is no
 * more memory. Runs on a thread of the caller's process while the target's threads are
 * stopped: when the target is the caller itself, take no lock (malloc's included) that a
 * stopped thread may hold. */
typedef int (*dumpscope_callback_routine)(void* param, const dumpscope_callback_input* input,
                                          dumpscope_callback_output* output);

typedef struct dumpscope_callback_information {
    dumpscope_callback_routine CallbackRoutine;
    void* CallbackParam;
} dumpscope_callback_information;

typedef struct dumpscope_user_stream {
    uint32_t Type; /* > 0xffff: the reserved range is Microsoft's and Breakpad's */
    uint32_t BufferSize;
    const void* Buffer;
} dumpscope_user_stream;

typedef struct dumpscope_user_stream_information {
    uint32_t UserStreamCount;
    dumpscope_user_stream* UserStreamArray;
} dumpscope_user_stream_information;

/* MINIDUMP_EXCEPTION_INFORMATION: the thread that faulted, its signal and its registers at the
 * fault (what a SA_SIGINFO handler receives). With ClientPointers non-zero the two pointers
 * are addresses in the target process, else in the caller's. */
typedef struct dumpscope_exception_information {
    pid_t ThreadId;
    const siginfo_t* SignalInfo;
    const ucontext_t* Context;
    int ClientPointers;
} dumpscope_exception_information;

/* MiniDumpWriteDump: writes a minidump of process `pid` into `fd` (a regular file open for
 * writing; it is truncated and the dump starts at offset 0). `pid` may be getpid(): the dump is
 * then written from outside by the helper (libexec/dumpscope/dumpscope-handler), never by
 * stopping the caller's threads from inside. Returns non-zero on success; on failure the file
 * is left empty. */
int dumpscope_write_dump(pid_t pid, int fd, uint32_t dump_type,
                         const dumpscope_exception_information* exception,
                         const dumpscope_user_stream_information* user_streams,
                         const dumpscope_callback_information* callback);

/* Why the last failed call of this thread failed ("" if none). */
const char* dumpscope_last_error(void);

/* MiniDumpReadDumpStream over a minidump in memory [base, base + size): the stream of this
 * type (the first one), bounds-checked. Returns non-zero and sets *stream / *stream_size when
 * found. */
int dumpscope_read_dump_stream(const void* base, size_t size, uint32_t stream_type,
                               const void** stream, uint32_t* stream_size);

/* ---- In-process crash handler ---- */

typedef struct dumpscope_crash_handler_options {
    const char* dump_dir;                                  /* where dumps go (must exist) */
    uint32_t dump_type;                                    /* MINIDUMP_TYPE bits */
    const dumpscope_user_stream_information* user_streams; /* copied at install; may be NULL */
    const char* upload_url;                                /* the dump service's /submit, or NULL */
    int chain_previous_handlers; /* non-zero: after the dump, the handlers installed before
                                    run (then the process dies of its signal) */
    const char* handler_path;    /* the helper binary; NULL: found next to the library */
} dumpscope_crash_handler_options;

/* Starts the helper and installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT and
 * SIGTRAP on an alternate signal stack (for the calling thread; other threads call
 * dumpscope_crash_handler_thread_init to survive their own stack overflow). Once per process. */
int dumpscope_crash_handler_install(const dumpscope_crash_handler_options* options);

/* An alternate signal stack for the calling thread (kept until the thread exits). */
int dumpscope_crash_handler_thread_init(void);

/* Annotations: key/value strings kept in the process and stored in every dump the handler
 * writes (stream 0x44530003, docs/streams.md). Keys up to 63 bytes, values up to 255, at most
 * 64 keys; setting an existing key replaces its value; a NULL value removes the key. No
 * allocation: safe to call at any time from any thread. */
int dumpscope_annotation_set(const char* key, const char* value);

/* "Something is wrong, keep running": the helper writes a dump of this process now, with the
 * handler's options, and the call returns when it is on disk. Any thread. */
int dumpscope_write_dump_now(void);

/* The path of the last dump the handler wrote in this process ("" if none). */
const char* dumpscope_last_dump_path(void);

#ifdef __cplusplus
}
#endif

#endif /* DUMPSCOPE_DUMPSCOPE_H */
