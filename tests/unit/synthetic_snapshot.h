// A small hand-built snapshot with known memory (a pattern per address), threads, modules and
// the content a dump of it holds: the input of the plan, reader and analysis tests. Plain data,
// no writer (synthetic_dump.h writes it into files).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "output/dump_content.h"
#include "snapshot/snapshot.h"

namespace dumpscope::test {

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kExe = 0x400000;          // r-x /bin/synthetic, header dumped
inline constexpr uint64_t kData = 0x402000;         // rw- /bin/synthetic
inline constexpr uint64_t kHeap = 0x1000000;        // 4 pages, pages 0-1 dumped
inline constexpr uint64_t kStack = 0x7ffd00000000;  // 4 pages, top 2 dumped
inline constexpr int32_t kPid = 4242;

// The byte at addr of the synthetic process.
inline uint8_t pattern(uint64_t addr) {
    return static_cast<uint8_t>((addr * 2654435761u) >> 11) | 1;
}

class PatternMemory : public MemorySource {
public:
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        for (size_t i = 0; i < out.size(); ++i) out[i] = pattern(addr + i);
        return out.size();
    }
};

inline Mapping make_mapping(uint64_t start, uint64_t end, const char* perms, std::string path,
                            uint64_t offset = 0) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.path = std::move(path);
    m.inode = m.path.empty() || m.path[0] != '/' ? 0 : 11;
    m.offset = offset;
    return m;
}

inline Thread make_thread(int32_t tid, const std::string& name, uint64_t rip, uint64_t rsp) {
    Thread t;
    t.tid = tid;
    t.name = name;
    t.state = 'S';
    X86_64Registers& regs = t.regs.edit_x86_64();
    regs.gp.rip = rip;
    regs.gp.rsp = rsp;
    regs.gp.rbp = rsp + 0x40;
    regs.gp.rax = 0x1000 + static_cast<uint64_t>(tid);
    regs.gp.orig_rax = 202;
    regs.gp.fs_base = 0x7f0000000000 + static_cast<uint64_t>(tid);
    regs.has_fpregs = true;
    regs.fxsave.fill(static_cast<uint8_t>(tid));
    t.syscall.in_syscall = true;
    t.syscall.number = 202;
    t.user_time_ns = 1500000000;
    return t;
}

inline Snapshot synthetic_snapshot() {
    Snapshot s;
    s.system.sysname = "Linux";
    s.system.release = "6.1.0-test";
    s.system.version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.1-1";
    s.system.machine = "x86_64";
    s.system.cpu_count = 2;
    s.system.cpu_vendor = "GenuineIntel";
    s.process.pid = kPid;
    s.process.ppid = 1;
    s.process.name = "synthetic";
    s.process.exe = "/bin/synthetic";
    s.process.cmdline = std::string("/bin/synthetic\0--flag\0", 22);
    s.process.argv = {"/bin/synthetic", "--flag"};
    s.process.status = "Name:\tsynthetic\nPid:\t4242\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\n";
    s.process.maps =
        "00400000-00402000 r-xp 00000000 08:01 11 /bin/synthetic\n"
        "00402000-00403000 rw-p 00002000 08:01 11 /bin/synthetic\n"
        "01000000-01004000 rw-p 00000000 00:00 0 [heap]\n"
        "7ffd00000000-7ffd00004000 rw-p 00000000 00:00 0 [stack]\n";
    const uint64_t auxv[] = {3, kExe + 64, 6, kPage, 0, 0};  // AT_PHDR, AT_PAGESZ, AT_NULL
    s.process.auxv.assign(reinterpret_cast<const uint8_t*>(auxv),
                          reinterpret_cast<const uint8_t*>(auxv) + sizeof(auxv));
    s.threads.push_back(make_thread(kPid, "synthetic", kExe + 0x100, kStack + 3 * kPage + 0x100));
    s.threads.push_back(make_thread(kPid + 1, "worker", kExe + 0x200, kStack + 2 * kPage + 0x800));
    s.mappings.push_back(make_mapping(kExe, kExe + 2 * kPage, "r-x", "/bin/synthetic"));
    s.mappings.push_back(make_mapping(kData, kData + kPage, "rw-", "/bin/synthetic", 0x2000));
    s.mappings.push_back(make_mapping(kHeap, kHeap + 4 * kPage, "rw-", "[heap]"));
    s.mappings.push_back(make_mapping(kStack, kStack + 4 * kPage, "rw-", "[stack]"));
    Module exe;
    exe.path = "/bin/synthetic";
    exe.base = kExe;
    exe.end = kData + kPage;
    exe.build_id = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    exe.is_main_executable = true;
    s.modules.push_back(exe);
    FileDescriptor fd;
    fd.fd = 3;
    fd.target = "/etc/passwd";
    fd.type = "file";
    s.fds.push_back(fd);
    s.memory = std::make_shared<PatternMemory>();
    s.capture.dump_type = "custom";
    return s;
}

inline DumpContent synthetic_content() {
    DumpContent c;
    c.threads = {0, 1};
    c.modules = {0};
    c.memory = {{kExe, kPage}, {kHeap, 2 * kPage}, {kStack + 2 * kPage, 2 * kPage}};
    c.memory_info_list = true;
    c.handle_data = true;
    return c;
}

}  // namespace dumpscope::test
