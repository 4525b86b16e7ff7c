// The /proc text parsers of src/procfs, on literal sample text.
#include <gtest/gtest.h>

#include <string>

#include "procfs/cpuinfo.h"
#include "procfs/fdinfo.h"
#include "procfs/maps_parser.h"
#include "procfs/stat_parser.h"
#include "procfs/status_parser.h"
#include "procfs/syscall_parse.h"

namespace dumpscope {
namespace {

constexpr const char* kMaps =
    "7f5e1c000000-7f5e1c021000 rw-p 00000000 00:00 0 \n"
    "55d4c3a00000-55d4c3a02000 r--p 00000000 fe:01 1311 /usr/bin/cat\n"
    "55d4c3a02000-55d4c3a07000 r-xp 00002000 fe:01 1311 /usr/bin/cat\n"
    "7f5e1c200000-7f5e1c201000 rw-s 00000000 00:05 42   /dev/shm/with space (deleted)\n"
    "7ffc8a9e0000-7ffc8aa01000 rw-p 00000000 00:00 0                          [stack]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

TEST(ProcfsMapsParser, ParsesEveryFieldAndSortsByStart) {
    auto maps = parse_maps(kMaps);
    ASSERT_TRUE(maps.ok()) << maps.error().message;
    ASSERT_EQ(maps->size(), 6u);
    const Mapping& text = (*maps)[1];
    EXPECT_EQ(text.start, 0x55d4c3a02000u);
    EXPECT_EQ(text.end, 0x55d4c3a07000u);
    EXPECT_EQ(text.offset, 0x2000u);
    EXPECT_TRUE(text.read && !text.write && text.exec && !text.shared);
    EXPECT_EQ(text.dev_major, 0xfeu);
    EXPECT_EQ(text.dev_minor, 1u);
    EXPECT_EQ(text.inode, 1311u);
    EXPECT_EQ(text.path, "/usr/bin/cat");
    EXPECT_TRUE(text.file_backed());

    EXPECT_EQ((*maps)[0].start, 0x55d4c3a00000u) << "sorted by start";
    const Mapping& anon = (*maps)[2];
    EXPECT_EQ(anon.path, "");
    EXPECT_FALSE(anon.file_backed());
    const Mapping& shm = (*maps)[3];
    EXPECT_TRUE(shm.shared && shm.write);
    EXPECT_EQ(shm.path, "/dev/shm/with space (deleted)");
    EXPECT_EQ((*maps)[4].path, "[stack]");
    EXPECT_EQ((*maps)[5].start, 0xffffffffff600000u);
    EXPECT_EQ((*maps)[5].path, "[vsyscall]");
}

TEST(ProcfsMapsParser, RejectsMalformedLines) {
    EXPECT_FALSE(parse_maps("not a maps line\n").ok());
    EXPECT_FALSE(parse_maps("1000-0800 r--p 00000000 00:00 0\n").ok()) << "end before start";
    EXPECT_FALSE(parse_maps("1000-2000 r--p 00000000 0000 0\n").ok()) << "no device colon";
    auto error = parse_maps("zz-2000 r--p 0 00:00 0\n");
    ASSERT_FALSE(error.ok());
    EXPECT_NE(error.error().message.find("zz-2000"), std::string::npos);
    EXPECT_TRUE(parse_maps("").ok());
}

TEST(ProcfsMapsParser, AppliesSmapsVmFlags) {
    auto maps = parse_maps(kMaps);
    ASSERT_TRUE(maps.ok());
    const char* smaps =
        "55d4c3a00000-55d4c3a02000 r--p 00000000 fe:01 1311 /usr/bin/cat\n"
        "Size:                  8 kB\n"
        "VmFlags: rd mr mw me dc sd\n"
        "7f5e1c000000-7f5e1c021000 rw-p 00000000 00:00 0 \n"
        "Rss:                   0 kB\n"
        "VmFlags: rd wr mr mw me ac wf sd\n"
        "7f5e1c200000-7f5e1c201000 rw-s 00000000 00:05 42   /dev/shm/with space (deleted)\n"
        "VmFlags: rd wr sh mr mw me ms io pf sd\n"
        "1234000-1235000 rw-p 00000000 00:00 0 \n"
        "VmFlags: dc wf io\n";  // no such mapping any more: ignored
    apply_smaps_vmflags(smaps, *maps);
    EXPECT_TRUE((*maps)[0].dont_fork);
    EXPECT_FALSE((*maps)[0].wipe_on_fork);
    EXPECT_TRUE((*maps)[2].wipe_on_fork);
    EXPECT_FALSE((*maps)[2].dont_fork);
    EXPECT_TRUE((*maps)[3].io);
    EXPECT_FALSE((*maps)[1].dont_fork || (*maps)[1].wipe_on_fork || (*maps)[1].io);
}

// A real line shape (kernel 6.x, 52 fields) with a hostile comm.
std::string stat_line(const std::string& comm) {
    return "4242 (" + comm +
           ") S 1 4242 4242 34816 4242 4194560 1000 0 0 0 250 125 0 0 20 -5 4 0 "
           "123456 10000000 300 18446744073709551615 94000000 94100000 140730000000000 0 0 0 0 "
           "0 0 0 0 0 17 1 0 0 0 0 0 94200000 94300000 94400000 140730000001000 "
           "140730000001100 140730000001100 140730000002000 0\n";
}

TEST(ProcfsStatParser, HandlesCommWithSpacesAndParentheses) {
    auto stat = parse_stat(stat_line("a) b (c"));
    ASSERT_TRUE(stat.ok()) << stat.error().message;
    EXPECT_EQ(stat->pid, 4242);
    EXPECT_EQ(stat->comm, "a) b (c");
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->ppid, 1);
    EXPECT_EQ(stat->flags, 4194560u);
    EXPECT_EQ(stat->utime_ticks, 250u);
    EXPECT_EQ(stat->stime_ticks, 125u);
    EXPECT_EQ(stat->priority, 20);
    EXPECT_EQ(stat->nice, -5);
    EXPECT_EQ(stat->num_threads, 4);
    EXPECT_EQ(stat->starttime_ticks, 123456u);
    EXPECT_EQ(stat->arg_start, 140730000001000u);
    EXPECT_EQ(stat->arg_end, 140730000001100u);
    EXPECT_EQ(stat->env_start, 140730000001100u);
    EXPECT_EQ(stat->env_end, 140730000002000u);
}

TEST(ProcfsStatParser, CommMayLookLikeFields) {
    auto stat = parse_stat(stat_line(") R 9 9 9 (x"));
    ASSERT_TRUE(stat.ok()) << stat.error().message;
    EXPECT_EQ(stat->comm, ") R 9 9 9 (x");
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->ppid, 1);
}

TEST(ProcfsStatParser, RejectsTruncatedText) {
    EXPECT_FALSE(parse_stat("").ok());
    EXPECT_FALSE(parse_stat("12 (x) S 1 2 3").ok());
    EXPECT_FALSE(parse_stat("12 x S 1").ok());
}

TEST(ProcfsStatParser, TicksToNanoseconds) {
    EXPECT_EQ(ticks_to_ns(250, 100), 2'500'000'000u);
    EXPECT_EQ(ticks_to_ns(1, 100), 10'000'000u);
    EXPECT_EQ(ticks_to_ns(3, 300), 10'000'000u);
    EXPECT_EQ(ticks_to_ns(0, 100), 0u);
}

TEST(ProcfsStatusParser, FindsFieldsAndNumbers) {
    const char* status =
        "Name:\tmy prog\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\nPid:\t78\n"
        "PPid:\t1\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t50\t50\t50\n";
    EXPECT_EQ(status_field(status, "Name"), "my prog");
    EXPECT_EQ(status_number(status, "Tgid"), 77);
    EXPECT_EQ(status_number(status, "Pid"), 78);
    EXPECT_EQ(status_number(status, "TracerPid"), 0);
    EXPECT_EQ(status_number(status, "Uid"), 1000);
    EXPECT_EQ(status_number(status, "Gid"), 50);
    EXPECT_FALSE(status_number(status, "Name").has_value());
    EXPECT_FALSE(status_field(status, "Missing").has_value());
    EXPECT_FALSE(status_field(status, "Ui").has_value()) << "no prefix matches";
}

TEST(ProcfsSyscallParser, ParsesProcSyscall) {
    auto blocked = parse_proc_syscall("202 0x7f00 0x80 0x2 0x0 0x0 0x0 0x7ffd10 0x7f5e11\n");
    ASSERT_TRUE(blocked.has_value());
    EXPECT_TRUE(blocked->in_syscall);
    EXPECT_EQ(blocked->number, 202);
    EXPECT_EQ(blocked->args[0], 0x7f00u);
    EXPECT_EQ(blocked->args[1], 0x80u);
    EXPECT_EQ(blocked->args[2], 2u);
    auto user = parse_proc_syscall("-1 0x7ffd10 0x7f5e11\n");
    ASSERT_TRUE(user.has_value());
    EXPECT_FALSE(user->in_syscall);
    EXPECT_FALSE(parse_proc_syscall("running\n").has_value());
}

TEST(ProcfsFdParser, ParsesFdinfoAndTypes) {
    FileDescriptor fd;
    parse_fdinfo("pos:\t4096\nflags:\t0100002\nmnt_id:\t29\nino:\t12\n", fd);
    EXPECT_EQ(fd.position, 4096u);
    EXPECT_EQ(fd.flags, 0100002u);
    EXPECT_EQ(fd_type("socket:[1234]", 0), "socket");
    EXPECT_EQ(fd_type("pipe:[99]", 0), "pipe");
    EXPECT_EQ(fd_type("anon_inode:[eventfd]", 0), "anon_inode");
    EXPECT_EQ(fd_type("/etc/passwd", 0100644), "file");
    EXPECT_EQ(fd_type("/tmp", 040755), "directory");
    EXPECT_EQ(fd_type("/dev/null", 020666), "device");
    EXPECT_EQ(fd_type("/gone (deleted)", 0), "file");
    EXPECT_EQ(fd_type("net:[4026531840]", 0), "unknown");
}

TEST(ProcfsSystemInfo, ParsesCpuinfoAndBootTime) {
    SystemInfo info;
    parse_cpuinfo(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
        "model name\t: Intel(R) Xeon(R)\nstepping\t: 7\n\nprocessor\t: 1\nvendor_id\t: Other\n",
        info);
    EXPECT_EQ(info.cpu_vendor, "GenuineIntel");
    EXPECT_EQ(info.cpu_family, 6u);
    EXPECT_EQ(info.cpu_model, 85u);
    EXPECT_EQ(info.cpu_stepping, 7u);
    EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
    EXPECT_EQ(parse_boot_time("cpu 1\n"), 0u);
}

}  // namespace
}  // namespace dumpscope
