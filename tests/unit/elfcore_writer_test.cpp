// write_elf_core on a synthetic snapshot, checked independently with libelf and the C library's
// own <sys/procfs.h> structures, then read back with summarize_elf_core.
#include <fcntl.h>
#include <gelf.h>
#include <gtest/gtest.h>
#include <libelf.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "elfcore/core_summary.h"
#include "elfcore/core_writer.h"
#include "snapshot/capture_record_json.h"

namespace dumpscope {
namespace {

// The writer takes the snapshot as const: what it learns while writing goes back to the caller.
static_assert(std::is_same_v<decltype(&write_elf_core),
                             Result<uint64_t> (*)(const Snapshot&, const DumpContent&, DumpFile&,
                                                  const WriteContext&)>);

constexpr uint64_t kPage = 4096;
constexpr uint64_t kExe = 0x400000;          // r-x, file-backed, not dumped
constexpr uint64_t kData = 0x402000;         // rw-, file-backed, dumped
constexpr uint64_t kHeap = 0x1000000;        // 8 pages dumped; page 3 is zero, page 5 unreadable
constexpr uint64_t kUser = 0x5000000;        // user-added range outside every mapping
constexpr uint64_t kStack = 0x7ffd00000000;  // 16 pages, only the top part dumped
constexpr uint64_t kStackUsed = kStack + 0xc100;

bool zero_page(uint64_t addr) { return addr >= kHeap + 3 * kPage && addr < kHeap + 4 * kPage; }
bool unreadable(uint64_t addr) { return addr >= kHeap + 5 * kPage && addr < kHeap + 6 * kPage; }

uint8_t pattern(uint64_t addr) {
    if (zero_page(addr)) return 0;
    return static_cast<uint8_t>((addr * 2654435761u) >> 11) | 1;
}

// Serves pattern() everywhere except the unreadable heap page.
class FakeMemory : public MemorySource {
public:
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        size_t n = 0;
        for (; n < out.size() && !unreadable(addr + n); ++n) out[n] = pattern(addr + n);
        return n;
    }
};

Mapping mapping(uint64_t start, uint64_t end, const char* perms, std::string path,
                uint64_t inode = 0, uint64_t offset = 0) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.path = std::move(path);
    m.inode = inode;
    m.offset = offset;
    return m;
}

Thread thread(int32_t tid, uint64_t rip, uint64_t rsp, size_t xsave_bytes) {
    Thread t;
    t.tid = tid;
    t.state = 'S';
    X86_64Registers& regs = t.regs.edit_x86_64();
    regs.gp.rip = rip;
    regs.gp.rsp = rsp;
    regs.gp.rax = 0x1000 + tid;
    regs.has_fpregs = true;
    regs.fxsave.fill(static_cast<uint8_t>(tid));
    regs.xsave.assign(xsave_bytes, static_cast<uint8_t>(tid + 1));
    t.user_time_ns = 1500000000;
    return t;
}

Snapshot synthetic_snapshot() {
    Snapshot s;
    s.process.pid = 4242;
    s.process.ppid = 1;
    s.process.uid = 1000;
    s.process.gid = 1001;
    s.process.name = "synthetic";
    s.process.cmdline = std::string("synthetic\0--flag\0", 17);
    s.process.stat = "4242 (synth (x)) S 1 4240 4239 0 -1 4194560 0 0 0 0 0 0 7 9 20 0 2 0";
    s.process.status = "Name:\tsynthetic\nSigPnd:\t0000000000000000\nSigBlk:\t0000000000010000\n";
    const uint64_t auxv[] = {6, kPage, 0, 0};  // AT_PAGESZ, AT_NULL
    s.process.auxv.assign(reinterpret_cast<const uint8_t*>(auxv),
                          reinterpret_cast<const uint8_t*>(auxv) + sizeof(auxv));
    s.threads.push_back(thread(4242, kExe + 0x100, kStack + 0xf000, 1088));
    s.threads.push_back(thread(4243, kExe + 0x200, kStack + 0xe000, 0));
    s.mappings.push_back(mapping(kExe, kExe + 2 * kPage, "r-x", "/usr/bin/synthetic", 11));
    s.mappings.push_back(mapping(kData, kData + kPage, "rw-", "/usr/bin/synthetic", 11, 0x2000));
    s.mappings.push_back(mapping(kHeap, kHeap + 8 * kPage, "rw-", "[heap]"));
    s.mappings.push_back(mapping(kStack, kStack + 16 * kPage, "rw-", "[stack]"));
    s.memory = std::make_shared<FakeMemory>();
    s.capture.dump_type = "custom";
    return s;
}

DumpContent synthetic_content() {
    DumpContent c;
    c.threads = {0, 1};
    c.memory = {{kData, kPage}, {kHeap, 8 * kPage}, {kUser, 0x800}, {kStackUsed, 0x3f00}};
    return c;
}

// Expected content of the file at a dumped address: pattern inside content.memory, zero in
// the rest of the widened pages and in the unreadable page.
// A core holds whole pages: every byte of a page that holds dumped memory is the source's own
// byte (read from the target, never a zero standing in for it).
uint8_t expected_core_byte(const DumpContent& content, uint64_t addr) {
    if (unreadable(addr)) return 0;
    const uint64_t page = addr & ~uint64_t{kPage - 1};
    for (const auto& r : content.memory) {
        if (page < r.end() && r.start < page + kPage) return pattern(addr);
    }
    return 0;
}

class ElfCoreWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        char templ[] = "/tmp/elfcore_writer_test.XXXXXX";
        ASSERT_NE(mkdtemp(templ), nullptr);
        dir_ = templ;
        elf_version(EV_CURRENT);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string core_path() const { return dir_ + "/out.core"; }

    // Writes and commits a core; returns its path.
    // The caller's capture record is the snapshot's with a pause of 12.5 ms.
    std::string write_core(const Snapshot& snapshot, const DumpContent& content, int* callbacks) {
        const std::string path = core_path();
        auto file = DumpFile::create(path, true);
        EXPECT_TRUE(file.ok());
        WriteContext ctx;
        ctx.target_memory_done = [callbacks] { ++*callbacks; };
        ctx.capture_record = [&snapshot](const WriteRecord& written) {
            CaptureRecord record = snapshot.capture;
            record.pause_ms = 12.5;
            merge_write_record(record, written);
            return record;
        };
        auto size = write_elf_core(snapshot, content, *file, ctx);
        EXPECT_TRUE(size.ok()) << (size.ok() ? "" : size.error().message);
        EXPECT_TRUE(file->commit(*size).ok());
        return path;
    }

    std::string dir_;
};

struct Note {
    std::string owner;
    uint32_t type;
    std::vector<uint8_t> desc;
};

std::vector<Note> notes_of(Elf* elf, const GElf_Phdr& phdr) {
    std::vector<Note> out;
    Elf_Data* data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_NHDR);
    if (data == nullptr) return out;
    GElf_Nhdr nhdr;
    size_t name_at = 0, desc_at = 0;
    for (size_t pos = 0; (pos = gelf_getnote(data, pos, &nhdr, &name_at, &desc_at)) > 0;) {
        const auto* base = static_cast<const uint8_t*>(data->d_buf);
        out.push_back({std::string(reinterpret_cast<const char*>(base + name_at)), nhdr.n_type,
                       std::vector<uint8_t>(base + desc_at, base + desc_at + nhdr.n_descsz)});
    }
    return out;
}

struct OpenElf {
    explicit OpenElf(const std::string& path) : fd(open(path.c_str(), O_RDONLY)) {
        elf = elf_begin(fd, ELF_C_READ, nullptr);
    }
    ~OpenElf() {
        elf_end(elf);
        close(fd);
    }
    std::vector<GElf_Phdr> phdrs() const {
        size_t n = 0;
        std::vector<GElf_Phdr> out;
        if (elf_getphdrnum(elf, &n) != 0) return out;
        for (size_t i = 0; i < n; ++i) {
            GElf_Phdr p;
            if (gelf_getphdr(elf, static_cast<int>(i), &p) != nullptr) out.push_back(p);
        }
        return out;
    }
    int fd;
    Elf* elf;
};

TEST_F(ElfCoreWriterTest, WritesNotesInKernelOrderWithThreadRegisters) {
    Snapshot snapshot = synthetic_snapshot();
    const DumpContent content = synthetic_content();
    int callbacks = 0;
    OpenElf core(write_core(snapshot, content, &callbacks));
    ASSERT_NE(core.elf, nullptr);
    GElf_Ehdr ehdr;
    ASSERT_NE(gelf_getehdr(core.elf, &ehdr), nullptr);
    EXPECT_EQ(ehdr.e_type, ET_CORE);
    EXPECT_EQ(ehdr.e_machine, EM_X86_64);

    const auto phdrs = core.phdrs();
    ASSERT_EQ(phdrs.size(), 8u);  // PT_NOTE, 6 x PT_LOAD, PT_NOTE
    ASSERT_EQ(phdrs.front().p_type, PT_NOTE);
    const auto notes = notes_of(core.elf, phdrs.front());
    const std::vector<std::pair<std::string, uint32_t>> expected = {
        {"CORE", NT_PRSTATUS}, {"CORE", NT_PRPSINFO}, {"CORE", NT_AUXV},
        {"CORE", NT_FILE},     {"CORE", NT_FPREGSET}, {"LINUX", NT_X86_XSTATE},
        {"CORE", NT_PRSTATUS}, {"CORE", NT_FPREGSET}};
    ASSERT_EQ(notes.size(), expected.size());
    for (size_t i = 0; i < notes.size(); ++i) {
        EXPECT_EQ(notes[i].owner, expected[i].first) << i;
        EXPECT_EQ(notes[i].type, expected[i].second) << i;
    }
    ASSERT_EQ(notes[0].desc.size(), sizeof(prstatus_t));
    ASSERT_EQ(notes[1].desc.size(), sizeof(prpsinfo_t));
    EXPECT_EQ(notes[2].desc, snapshot.process.auxv);
    EXPECT_EQ(notes[4].desc.size(), 512u);
    EXPECT_EQ(notes[5].desc.size(), 1088u);

    prstatus_t first, second;
    std::memcpy(&first, notes[0].desc.data(), sizeof(first));
    std::memcpy(&second, notes[6].desc.data(), sizeof(second));
    EXPECT_EQ(first.pr_pid, 4242);
    EXPECT_EQ(first.pr_reg[RIP], kExe + 0x100);
    EXPECT_EQ(first.pr_reg[RSP], kStack + 0xf000);
    EXPECT_EQ(first.pr_ppid, 1);
    EXPECT_EQ(first.pr_pgrp, 4240);
    EXPECT_EQ(first.pr_sid, 4239);
    EXPECT_EQ(first.pr_sighold, 0x10000u);
    EXPECT_EQ(first.pr_utime.tv_sec, 1);
    EXPECT_EQ(first.pr_utime.tv_usec, 500000);
    EXPECT_EQ(first.pr_fpvalid, 1);
    EXPECT_EQ(first.pr_cursig, 0);
    EXPECT_EQ(second.pr_pid, 4243);
    EXPECT_EQ(second.pr_reg[RIP], kExe + 0x200);
    EXPECT_EQ(second.pr_reg[RAX], 0x1000u + 4243);
    EXPECT_EQ(notes[7].desc, std::vector<uint8_t>(512, 4243 & 0xff));

    prpsinfo_t ps;
    std::memcpy(&ps, notes[1].desc.data(), sizeof(ps));
    EXPECT_EQ(ps.pr_pid, 4242);
    EXPECT_EQ(ps.pr_uid, 1000u);
    EXPECT_EQ(ps.pr_gid, 1001u);
    EXPECT_EQ(ps.pr_sname, 'S');
    EXPECT_STREQ(ps.pr_fname, "synthetic");
    EXPECT_STREQ(ps.pr_psargs, "synthetic --flag");

    // NT_FILE: two mappings of /usr/bin/synthetic, offsets in pages.
    const auto& nt_file = notes[3].desc;
    std::vector<uint64_t> words(6);
    ASSERT_GE(nt_file.size(), words.size() * 8);
    std::memcpy(words.data(), nt_file.data(), words.size() * 8);
    EXPECT_EQ(words[0], 2u);
    EXPECT_EQ(words[1], kPage);
    EXPECT_EQ(words[2], kExe);
    EXPECT_EQ(words[3], kExe + 2 * kPage);
    EXPECT_EQ(words[4], 0u);
    const std::string names(nt_file.begin() + 16 + 2 * 24, nt_file.end());
    EXPECT_EQ(names, std::string("/usr/bin/synthetic\0/usr/bin/synthetic\0", 38));
}

TEST_F(ElfCoreWriterTest, SplitsPartlyDumpedMappingsAndStoresTheSourceBytesOfWholePages) {
    Snapshot snapshot = synthetic_snapshot();
    const DumpContent content = synthetic_content();
    int callbacks = 0;
    const std::string path = write_core(snapshot, content, &callbacks);
    OpenElf core(path);
    const auto phdrs = core.phdrs();
    ASSERT_EQ(phdrs.size(), 8u);

    struct Want {
        uint64_t vaddr, memsz;
        bool bytes;
        uint32_t flags;
    };
    const std::vector<Want> want = {{kExe, 2 * kPage, false, PF_R | PF_X},
                                    {kData, kPage, true, PF_R | PF_W},
                                    {kHeap, 8 * kPage, true, PF_R | PF_W},
                                    {kUser, kPage, true, PF_R},
                                    {kStack, 12 * kPage, false, PF_R | PF_W},
                                    {kStack + 12 * kPage, 4 * kPage, true, PF_R | PF_W}};
    std::vector<uint8_t> buffer;
    for (size_t i = 0; i < want.size(); ++i) {
        const GElf_Phdr& p = phdrs[i + 1];
        SCOPED_TRACE(i);
        EXPECT_EQ(p.p_type, PT_LOAD);
        EXPECT_EQ(p.p_vaddr, want[i].vaddr);
        EXPECT_EQ(p.p_memsz, want[i].memsz);
        EXPECT_EQ(p.p_filesz, want[i].bytes ? want[i].memsz : 0);
        EXPECT_EQ(p.p_flags, want[i].flags);
        EXPECT_EQ(p.p_align, kPage);
        if (!want[i].bytes) continue;
        EXPECT_EQ(p.p_offset % kPage, 0u);
        buffer.resize(p.p_filesz);
        ASSERT_EQ(pread(core.fd, buffer.data(), buffer.size(), p.p_offset),
                  static_cast<ssize_t>(buffer.size()));
        size_t mismatches = 0;
        for (uint64_t off = 0; off < buffer.size(); ++off) {
            mismatches += buffer[off] != expected_core_byte(content, p.p_vaddr + off);
        }
        EXPECT_EQ(mismatches, 0u);
    }
    EXPECT_EQ(phdrs.back().p_type, PT_NOTE);

    // The zero heap page is a hole in the file; the whole file is smaller on disk than long.
    const GElf_Phdr& heap = phdrs[3];
    const off_t zero_at = static_cast<off_t>(heap.p_offset + 3 * kPage);
    EXPECT_EQ(lseek(core.fd, zero_at, SEEK_HOLE), zero_at);
    struct stat st {};
    ASSERT_EQ(fstat(core.fd, &st), 0);
    EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, static_cast<uint64_t>(st.st_size));
}

TEST_F(ElfCoreWriterTest, WritesTheCaptureRecordAfterTheMemoryCallback) {
    Snapshot snapshot = synthetic_snapshot();
    int callbacks = 0;
    OpenElf core(write_core(snapshot, synthetic_content(), &callbacks));
    EXPECT_EQ(callbacks, 1);
    const auto phdrs = core.phdrs();
    ASSERT_FALSE(phdrs.empty());
    const GElf_Phdr& last = phdrs.back();
    ASSERT_EQ(last.p_type, PT_NOTE);
    for (const auto& p : phdrs) {  // the capture record comes after every byte of memory
        if (p.p_type == PT_LOAD) {
            EXPECT_LE(p.p_offset + p.p_filesz, last.p_offset);
        }
    }
    const auto notes = notes_of(core.elf, last);
    ASSERT_EQ(notes.size(), 2u);  // the capture record, then the process note
    EXPECT_EQ(notes[0].owner, "DUMPSCOPE");
    EXPECT_EQ(notes[0].type, 0x44530002u);
    EXPECT_EQ(notes[1].owner, "DUMPSCOPE");
    EXPECT_EQ(notes[1].type, 0x44530003u);
    auto record = capture_record_from_json(std::string(notes[0].desc.begin(), notes[0].desc.end()));
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->pause_ms, 12.5);
    EXPECT_EQ(record->dump_type, "custom");
    ASSERT_EQ(record->notes.size(), 1u);  // the unreadable heap page
    EXPECT_NE(record->notes[0].find("4096 bytes could not be read"), std::string::npos);
    // The note went to the caller's record, not into the snapshot.
    EXPECT_TRUE(snapshot.capture.notes.empty());
    EXPECT_EQ(snapshot.capture.pause_ms, 0);
}

TEST_F(ElfCoreWriterTest, WritesUserStreamsAsNotesAfterTheCaptureRecord) {
    Snapshot snapshot = synthetic_snapshot();
    DumpContent content = synthetic_content();
    content.user_streams.push_back(UserStream::of(0x10000, {1, 2, 3}));
    int callbacks = 0;
    const std::string path = write_core(snapshot, content, &callbacks);
    OpenElf core(path);
    const auto notes = notes_of(core.elf, core.phdrs().back());
    ASSERT_EQ(notes.size(), 3u);
    EXPECT_EQ(notes[0].owner, "DUMPSCOPE");
    EXPECT_EQ(notes[1].owner, "DUMPSCOPE");
    EXPECT_EQ(notes[2].owner, "DUMPSCOPE_USER");
    EXPECT_EQ(notes[2].type, 0x10000u);
    EXPECT_EQ(notes[2].desc, (std::vector<uint8_t>{1, 2, 3}));
    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    bool found = false;
    for (const auto& e : s->entries) found |= e.name == "user stream 0x10000 x1" && e.size == 3;
    EXPECT_TRUE(found);
}

TEST_F(ElfCoreWriterTest, PutsTheExceptionThreadFirstWithItsSignal) {
    Snapshot snapshot = synthetic_snapshot();
    ExceptionInfo exception;
    exception.tid = 4243;
    exception.signal.signo = 11;
    exception.signal.code = 1;  // SEGV_MAPERR
    exception.signal.fault_address = 0xdead0000;
    exception.context = snapshot.threads[1].regs;
    exception.context.set_pc(0x400abc);
    snapshot.exception = exception;
    int callbacks = 0;
    OpenElf core(write_core(snapshot, synthetic_content(), &callbacks));
    const auto notes = notes_of(core.elf, core.phdrs().front());
    ASSERT_GE(notes.size(), 4u);
    EXPECT_EQ(notes[0].type, NT_PRSTATUS);
    EXPECT_EQ(notes[1].type, NT_PRPSINFO);
    EXPECT_EQ(notes[2].type, NT_SIGINFO);
    EXPECT_EQ(notes[2].desc.size(), 128u);
    prstatus_t first;
    std::memcpy(&first, notes[0].desc.data(), sizeof(first));
    EXPECT_EQ(first.pr_pid, 4243);
    EXPECT_EQ(first.pr_cursig, 11);
    EXPECT_EQ(first.pr_reg[RIP], 0x400abcu);  // the registers at the fault
    siginfo_t info;
    std::memcpy(&info, notes[2].desc.data(), sizeof(info));
    EXPECT_EQ(info.si_signo, 11);
    EXPECT_EQ(info.si_code, 1);
    EXPECT_EQ(reinterpret_cast<uint64_t>(info.si_addr), 0xdead0000u);

    auto summary = summarize_elf_core(core_path());
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_TRUE(summary->exception.has_value());
    EXPECT_EQ(summary->exception->signo, 11);
    EXPECT_EQ(summary->exception->fault_address, 0xdead0000u);
    EXPECT_EQ(summary->exception_tid, 4243);
    EXPECT_EQ(summary->thread_names, (std::vector<std::string>{"4243", "4242"}));
}

TEST_F(ElfCoreWriterTest, SummaryDescribesOurCore) {
    Snapshot snapshot = synthetic_snapshot();
    int callbacks = 0;
    const std::string path = write_core(snapshot, synthetic_content(), &callbacks);
    EXPECT_TRUE(looks_like_elf_core(path));
    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->format, "elf-core");
    EXPECT_EQ(s->os, "Linux x86_64");
    EXPECT_EQ(s->pid, 4242);
    EXPECT_EQ(s->process_name, "synthetic");
    EXPECT_EQ(s->command_line, "synthetic --flag");
    EXPECT_EQ(s->thread_count, 2u);
    EXPECT_EQ(s->thread_names, (std::vector<std::string>{"4242", "4243"}));
    EXPECT_EQ(s->module_count, 1u);
    EXPECT_EQ(s->module_paths, std::vector<std::string>{"/usr/bin/synthetic"});
    const std::vector<MemoryRange> memory = {
        {kData, kPage}, {kHeap, 8 * kPage}, {kUser, kPage}, {kStack + 12 * kPage, 4 * kPage}};
    EXPECT_EQ(s->memory, memory);
    EXPECT_EQ(s->memory_bytes, 14 * kPage);
    ASSERT_TRUE(s->capture.has_value());
    EXPECT_EQ(s->capture->pause_ms, 12.5);
    EXPECT_FALSE(s->exception.has_value());
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(s->file_size, static_cast<uint64_t>(st.st_size));
    EXPECT_EQ(s->disk_usage, static_cast<uint64_t>(st.st_blocks) * 512);
    std::vector<std::string> names;
    for (const auto& e : s->entries) names.push_back(e.name);
    EXPECT_EQ(names, (std::vector<std::string>{"NT_PRSTATUS x2", "NT_PRPSINFO x1", "NT_AUXV x1",
                                               "NT_FILE x1", "NT_FPREGSET x2", "NT_X86_XSTATE x1",
                                               "DUMPSCOPE_CAPTURE x1", "DUMPSCOPE_PROCESS x1",
                                               "PT_LOAD x6"}));
}

TEST_F(ElfCoreWriterTest, RejectsContentTheSnapshotCannotBack) {
    Snapshot snapshot = synthetic_snapshot();
    auto file = DumpFile::create(core_path(), true);
    ASSERT_TRUE(file.ok());
    DumpContent bad_thread = synthetic_content();
    bad_thread.threads = {0, 7};
    auto r = write_elf_core(snapshot, bad_thread, *file, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("thread #7"), std::string::npos) << r.error().message;
    DumpContent wrapping = synthetic_content();
    wrapping.memory = {{~uint64_t{0} - 0x100, 0x80}};
    r = write_elf_core(snapshot, wrapping, *file, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("wraps around"), std::string::npos) << r.error().message;
}

TEST_F(ElfCoreWriterTest, UsesExtendedNumberingBeyond65534ProgramHeaders) {
    Snapshot snapshot = synthetic_snapshot();
    snapshot.mappings.clear();
    constexpr uint64_t kMappings = 70000;
    for (uint64_t i = 0; i < kMappings; ++i) {
        snapshot.mappings.push_back(
            mapping(0x10000000 + i * 2 * kPage, 0x10000000 + i * 2 * kPage + kPage, "r--", ""));
    }
    DumpContent content = synthetic_content();
    content.memory = {{0x10000000, kPage}};
    int callbacks = 0;
    const std::string path = write_core(snapshot, content, &callbacks);
    OpenElf core(path);
    GElf_Ehdr ehdr;
    ASSERT_NE(gelf_getehdr(core.elf, &ehdr), nullptr);
    EXPECT_EQ(ehdr.e_phnum, PN_XNUM);
    size_t phnum = 0;
    ASSERT_EQ(elf_getphdrnum(core.elf, &phnum), 0);
    EXPECT_EQ(phnum, kMappings + 2);
    auto s = summarize_elf_core(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->entries.back().name, "PT_LOAD x70000");
    EXPECT_EQ(s->memory_bytes, kPage);
}

}  // namespace
}  // namespace dumpscope
