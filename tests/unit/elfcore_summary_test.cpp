// summarize_elf_core on hand-built cores: a valid one, then one broken field at a time. Every
// broken file must give an Error (and never read outside the file: run under ASan to be sure).
#include <elf.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "elfcore/core_summary.h"

namespace dumpscope {
namespace {

constexpr uint64_t kPage = 4096;

template <typename T>
void put(std::vector<uint8_t>& out, uint64_t offset, const T& value) {
    if (out.size() < offset + sizeof(T)) out.resize(offset + sizeof(T));
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

void append_note(std::vector<uint8_t>& out, const std::string& name, uint32_t type,
                 const std::vector<uint8_t>& desc) {
    Elf64_Nhdr h{static_cast<Elf64_Word>(name.size() + 1), static_cast<Elf64_Word>(desc.size()),
                 type};
    const size_t at = out.size();
    put(out, at, h);
    out.resize(at + sizeof(h) + ((name.size() + 4) & ~size_t{3}), 0);
    std::memcpy(out.data() + at + sizeof(h), name.data(), name.size());
    const size_t desc_at = out.size();
    out.resize(desc_at + ((desc.size() + 3) & ~size_t{3}), 0);
    if (!desc.empty()) std::memcpy(out.data() + desc_at, desc.data(), desc.size());
}

// Offsets of the interesting fields of the core minimal_core() builds.
struct Layout {
    uint64_t notes_offset = 0;
    uint64_t notes_size = 0;
    uint64_t file_note_offset = 0;  // descriptor of NT_FILE
    uint64_t load_offset = 0;
};

// ELF header, PT_NOTE (NT_PRSTATUS, NT_PRPSINFO, NT_FILE), one PT_LOAD of one page.
std::vector<uint8_t> minimal_core(Layout* layout = nullptr, size_t prstatus_size = 336) {
    std::vector<uint8_t> notes;
    std::vector<uint8_t> prstatus(prstatus_size, 0);
    const int32_t tid = 777;
    if (prstatus_size >= 36) std::memcpy(prstatus.data() + 32, &tid, 4);
    append_note(notes, "CORE", NT_PRSTATUS, prstatus);
    std::vector<uint8_t> psinfo(136, 0);
    std::memcpy(psinfo.data() + 24, &tid, 4);
    std::memcpy(psinfo.data() + 40, "tiny", 4);
    std::memcpy(psinfo.data() + 56, "tiny -x", 7);
    append_note(notes, "CORE", NT_PRPSINFO, psinfo);
    std::vector<uint8_t> files;
    for (uint64_t word :
         {uint64_t{1}, kPage, uint64_t{0x400000}, uint64_t{0x401000}, uint64_t{0}}) {
        put(files, files.size(), word);
    }
    for (char c : std::string("/bin/tiny")) files.push_back(static_cast<uint8_t>(c));
    files.push_back(0);
    const size_t file_desc_in_notes = notes.size() + sizeof(Elf64_Nhdr) + 8;
    append_note(notes, "CORE", NT_FILE, files);

    const uint64_t phoff = sizeof(Elf64_Ehdr);
    const uint64_t notes_offset = phoff + 2 * sizeof(Elf64_Phdr);
    const uint64_t load_offset = kPage;
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_type = ET_CORE;
    h.e_machine = EM_X86_64;
    h.e_version = EV_CURRENT;
    h.e_phoff = phoff;
    h.e_ehsize = sizeof(Elf64_Ehdr);
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = 2;
    Elf64_Phdr note{PT_NOTE, 0, notes_offset, 0, 0, notes.size(), 0, 4};
    Elf64_Phdr load{PT_LOAD, PF_R, load_offset, 0x400000, 0, kPage, kPage, kPage};

    std::vector<uint8_t> out;
    put(out, 0, h);
    put(out, phoff, note);
    put(out, phoff + sizeof(Elf64_Phdr), load);
    out.resize(notes_offset);
    out.insert(out.end(), notes.begin(), notes.end());
    out.resize(load_offset + kPage, 0xab);
    if (layout != nullptr) {
        *layout = {notes_offset, notes.size(), notes_offset + file_desc_in_notes, load_offset};
    }
    return out;
}

class ElfCoreSummaryTest : public ::testing::Test {
protected:
    void SetUp() override {
        char templ[] = "/tmp/elfcore_summary_test.XXXXXX";
        ASSERT_NE(mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string save(const std::vector<uint8_t>& bytes) {
        const std::string path = dir_ + "/core." + std::to_string(counter_++);
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        return path;
    }

    // Summarizing `bytes` must fail with a message containing `expected`.
    void expect_error(const std::vector<uint8_t>& bytes, const std::string& expected) {
        auto s = summarize_elf_core(save(bytes));
        ASSERT_FALSE(s.ok());
        EXPECT_NE(s.error().message.find(expected), std::string::npos) << s.error().message;
        EXPECT_EQ(s.error().message.find('\n'), std::string::npos);
    }

    std::string dir_;
    int counter_ = 0;
};

TEST_F(ElfCoreSummaryTest, ReadsAValidHandBuiltCore) {
    auto s = summarize_elf_core(save(minimal_core()));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->pid, 777);
    EXPECT_EQ(s->process_name, "tiny");
    EXPECT_EQ(s->command_line, "tiny -x");
    EXPECT_EQ(s->thread_count, 1u);
    EXPECT_EQ(s->module_paths, std::vector<std::string>{"/bin/tiny"});
    EXPECT_EQ(s->memory_bytes, kPage);
    EXPECT_FALSE(s->capture.has_value());
}

TEST_F(ElfCoreSummaryTest, RejectsTruncatedFiles) {
    const auto core = minimal_core();
    expect_error({core.begin(), core.begin() + 40}, "too small for an ELF header");
    expect_error({core.begin(), core.begin() + 100}, "program headers");
    expect_error({}, "is empty");
}

// Cut inside the notes or the memory: summarized, with one warning saying what is missing.
TEST_F(ElfCoreSummaryTest, SummarizesTruncatedFilesWithAWarning) {
    const auto core = minimal_core();
    for (size_t cut : {size_t{1}, core.size() - 300}) {
        auto s = summarize_elf_core(save({core.begin(), core.end() - static_cast<ptrdiff_t>(cut)}));
        ASSERT_TRUE(s.ok()) << s.error().message;
        ASSERT_EQ(s->warnings.size(), 1u);
        EXPECT_NE(s->warnings[0].find(fmt::format("is truncated: {} bytes missing", cut)),
                  std::string::npos)
            << s->warnings[0];
        EXPECT_LT(s->memory_bytes, kPage);
    }
}

TEST_F(ElfCoreSummaryTest, RejectsBadMagicAndOtherFileKinds) {
    auto core = minimal_core();
    core[1] = 'X';
    expect_error(core, "not an ELF file");
    EXPECT_FALSE(looks_like_elf_core(save(core)));
    EXPECT_FALSE(looks_like_elf_core("/bin/true"));
    EXPECT_TRUE(looks_like_elf_core(save(minimal_core())));
    auto exec = minimal_core();
    put(exec, offsetof(Elf64_Ehdr, e_type), Elf64_Half{ET_EXEC});
    expect_error(exec, "not a core file");
    auto elf32 = minimal_core();
    elf32[EI_CLASS] = ELFCLASS32;
    expect_error(elf32, "64-bit");
    auto s = summarize_elf_core(dir_ + "/missing");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("No such file"), std::string::npos);
}

TEST_F(ElfCoreSummaryTest, RejectsProgramHeadersPastTheEnd) {
    auto core = minimal_core();
    put(core, offsetof(Elf64_Ehdr, e_phoff), Elf64_Off{core.size() - 10});
    expect_error(core, "program headers");
    put(core, offsetof(Elf64_Ehdr, e_phoff), ~Elf64_Off{0} - 8);  // offset + size overflows
    expect_error(core, "program headers");
}

TEST_F(ElfCoreSummaryTest, RejectsHugeProgramHeaderCounts) {
    auto core = minimal_core();
    put(core, offsetof(Elf64_Ehdr, e_phnum), Elf64_Half{0xfffe});
    expect_error(core, "65534 program headers");

    // PN_XNUM without section header 0, then with an absurd sh_info.
    put(core, offsetof(Elf64_Ehdr, e_phnum), Elf64_Half{PN_XNUM});
    expect_error(core, "PN_XNUM");
    put(core, offsetof(Elf64_Ehdr, e_shoff), Elf64_Off{0x20});  // inside the 4 KiB of 0xab
    put(core, offsetof(Elf64_Ehdr, e_shentsize), Elf64_Half{sizeof(Elf64_Shdr)});
    Elf64_Shdr section0{};
    section0.sh_info = 0xffffffff;
    const uint64_t shoff = core.size() - sizeof(Elf64_Shdr);
    put(core, shoff, section0);
    put(core, offsetof(Elf64_Ehdr, e_shoff), Elf64_Off{shoff});
    expect_error(core, "4294967295 program headers");
    put(core, offsetof(Elf64_Ehdr, e_phentsize), Elf64_Half{32});
    expect_error(core, "program header size");
}

TEST_F(ElfCoreSummaryTest, RejectsNotesPastTheirSegment) {
    Layout layout;
    auto core = minimal_core(&layout);
    auto huge_desc = core;
    put(huge_desc, layout.notes_offset + offsetof(Elf64_Nhdr, n_descsz), Elf64_Word{0xfffffff0});
    expect_error(huge_desc, "extends past the end of PT_NOTE");
    auto huge_name = core;
    put(huge_name, layout.notes_offset + offsetof(Elf64_Nhdr, n_namesz), Elf64_Word{0xffffffff});
    expect_error(huge_name, "extends past the end of PT_NOTE");
    auto segment = core;  // the PT_NOTE itself runs past the end of the file
    put(segment, sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_filesz), Elf64_Xword{1} << 40);
    expect_error(segment, "PT_NOTE #0");
    auto ragged = core;  // a segment that ends inside a note header
    put(ragged, sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_filesz),
        Elf64_Xword{layout.notes_size + 6});
    expect_error(ragged, "truncated note header");
}

TEST_F(ElfCoreSummaryTest, RejectsMalformedNotePayloads) {
    Layout layout;
    auto core = minimal_core(&layout);
    auto count = core;
    put(count, layout.file_note_offset, uint64_t{1} << 60);
    expect_error(count, "NT_FILE note");
    auto unterminated = core;
    const uint64_t path_at = layout.file_note_offset + 16 + 24;
    std::memset(unterminated.data() + path_at, 'a', 12);
    expect_error(unterminated, "not NUL-terminated");
    expect_error(minimal_core(nullptr, 8), "NT_PRSTATUS note at 0xc4 has 8 bytes");
}

TEST_F(ElfCoreSummaryTest, RejectsSegmentsWithMoreFileBytesThanMemory) {
    auto core = minimal_core();
    const uint64_t load_phdr = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    put(core, load_phdr + offsetof(Elf64_Phdr, p_memsz), Elf64_Xword{16});
    expect_error(core, "more file bytes");
}

}  // namespace
}  // namespace dumpscope
