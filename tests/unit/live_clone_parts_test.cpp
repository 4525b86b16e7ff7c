// The pure parts of --clone: the registers a stopped thread resumes with, the injected code's
// layout, the injection site in an ELF's padding, and the overlay over the clone's memory.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>

#include "live/clone_regions.h"
#include "live/injection_code.h"
#include "live/injection_site.h"
#include "live/overlay_memory_source.h"

namespace dumpscope {
namespace {

constexpr uint64_t kNoSyscall = ~uint64_t{0};

X86GeneralRegisters stopped_in(int64_t syscall, int64_t rax, uint64_t rip) {
    X86GeneralRegisters regs{};
    regs.orig_rax = static_cast<uint64_t>(syscall);
    regs.rax = static_cast<uint64_t>(rax);
    regs.rip = rip;
    regs.rdi = 7;
    return regs;
}

TEST(ResumeRegisters, RestartableCallsGoBackOverTheSyscallInstruction) {
    for (int64_t code : {-512, -513, -514}) {
        const auto regs = resume_registers(stopped_in(SYS_pause, code, 0x1002));
        EXPECT_EQ(regs.rip, 0x1000u) << code;
        EXPECT_EQ(regs.rax, static_cast<uint64_t>(SYS_pause)) << code;
        EXPECT_EQ(regs.orig_rax, kNoSyscall);
        EXPECT_EQ(regs.rdi, 7u);
    }
}

TEST(ResumeRegisters, RestartBlockBecomesRestartSyscall) {
    const auto regs = resume_registers(stopped_in(SYS_nanosleep, -516, 0x2002));
    EXPECT_EQ(regs.rip, 0x2000u);
    EXPECT_EQ(regs.rax, static_cast<uint64_t>(SYS_restart_syscall));
}

TEST(ResumeRegisters, FinishedCallsAndUserCodeAreLeftAlone) {
    auto regs = resume_registers(stopped_in(SYS_read, -4 /* EINTR */, 0x3002));
    EXPECT_EQ(regs.rip, 0x3002u);
    EXPECT_EQ(regs.rax, static_cast<uint64_t>(-4));
    regs = resume_registers(stopped_in(-1, -514, 0x4002));  // not in a call: rax is user data
    EXPECT_EQ(regs.rip, 0x4002u);
    EXPECT_EQ(regs.rax, static_cast<uint64_t>(-514));
    EXPECT_EQ(regs.orig_rax, kNoSyscall);
}

bool contains(const std::vector<uint8_t>& code, std::vector<uint8_t> needle) {
    return std::search(code.begin(), code.end(), needle.begin(), needle.end()) != code.end();
}

std::vector<uint8_t> imm64(uint8_t rex, uint8_t op, uint64_t value) {
    std::vector<uint8_t> out = {rex, op};
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
    return out;
}

TEST(InjectionCode, StartsWithSyscallAndRestoresEveryRegisterItTouches) {
    X86GeneralRegisters resume{};
    resume.rax = 0x1111;
    resume.rcx = 0x2222;
    resume.rdx = 0x3333;
    resume.rsi = 0x4444;
    resume.rdi = 0x5555;
    resume.r8 = 0x6666;
    resume.r9 = 0x7777;
    resume.r10 = 0x8888;
    resume.r11 = 0x9999;
    resume.rip = 0x7f0000001234;
    const auto code = build_injection_code(0x10000, resume, 0xabcdef, true);
    ASSERT_LE(code.bytes.size(), kInjectionCodeSize);
    EXPECT_EQ(code.bytes[0], 0x0f);
    EXPECT_EQ(code.bytes[1], 0x05);
    EXPECT_EQ(code.after_syscall, 0x10002u);
    EXPECT_TRUE(contains(code.bytes, imm64(0x48, 0xb8, 0x1111)));  // rax
    EXPECT_TRUE(contains(code.bytes, imm64(0x48, 0xb9, 0x2222)));  // rcx
    EXPECT_TRUE(contains(code.bytes, imm64(0x48, 0xba, 0x3333)));  // rdx
    EXPECT_TRUE(contains(code.bytes, imm64(0x48, 0xbe, 0x4444)));  // rsi
    EXPECT_TRUE(contains(code.bytes, imm64(0x48, 0xbf, 0x5555)));  // rdi
    EXPECT_TRUE(contains(code.bytes, imm64(0x49, 0xb8, 0x6666)));  // r8
    EXPECT_TRUE(contains(code.bytes, imm64(0x49, 0xb9, 0x7777)));  // r9
    EXPECT_TRUE(contains(code.bytes, imm64(0x49, 0xba, 0x8888)));  // r10
    EXPECT_TRUE(contains(code.bytes, imm64(0x49, 0xbb, 0x9999)));  // r11
    // The signal mask is the last 8 bytes; the rip-relative lea points at it.
    uint64_t mask = 0;
    std::memcpy(&mask, code.bytes.data() + code.bytes.size() - 8, 8);
    EXPECT_EQ(mask, 0xabcdefu);
    const std::vector<uint8_t> lea_rsi = {0x48, 0x8d, 0x35};
    const auto lea =
        std::search(code.bytes.begin(), code.bytes.end(), lea_rsi.begin(), lea_rsi.end());
    ASSERT_NE(lea, code.bytes.end());
    int32_t disp = 0;
    std::memcpy(&disp, &*(lea + 3), 4);
    EXPECT_EQ(static_cast<size_t>((lea - code.bytes.begin()) + 7 + disp), code.bytes.size() - 8);
}

TEST(InjectionCode, ZeroResultOfAForkLikeCallLeadsToExitGroup) {
    const auto code = build_injection_code(0x10000, X86GeneralRegisters{}, 0, true);
    // mov rcx, rax; jrcxz +2; jmp +14; mov eax, 231 (exit_group)
    const std::vector<uint8_t> head = {0x0f, 0x05, 0x48, 0x89, 0xc1, 0xe3, 0x02,
                                       0xeb, 0x0e, 0xb8, 0xe7, 0x00, 0x00, 0x00};
    EXPECT_TRUE(std::equal(head.begin(), head.end(), code.bytes.begin()));
    // The jmp lands right after the 14-byte child path.
    EXPECT_EQ(code.bytes[9 + 14], 0xb8);  // parent: mov eax, 14 (rt_sigprocmask)
    EXPECT_EQ(code.bytes[9 + 15], SYS_rt_sigprocmask);
    const auto plain = build_injection_code(0x10000, X86GeneralRegisters{}, 0, false);
    EXPECT_FALSE(contains(plain.bytes, {0xb8, 0xe7, 0x00, 0x00, 0x00}));
}

// Memory made of a few byte ranges.
class FakeMemory final : public MemorySource {
public:
    void put(uint64_t addr, std::vector<uint8_t> bytes) { ranges_[addr] = std::move(bytes); }
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        auto it = ranges_.upper_bound(addr);
        if (it == ranges_.begin()) return size_t{0};
        --it;
        if (addr >= it->first + it->second.size()) return size_t{0};
        const size_t n = std::min(out.size(), it->first + it->second.size() - addr);
        std::memcpy(out.data(), it->second.data() + (addr - it->first), n);
        return n;
    }

private:
    std::map<uint64_t, std::vector<uint8_t>> ranges_;
};

TEST(OverlayMemory, PatchesReplaceHolesCutAndTheRestComesFromTheBase) {
    auto base = std::make_shared<FakeMemory>();
    base->put(0x1000, std::vector<uint8_t>(0x3000, 0xbb));
    OverlayMemorySource overlay(base, {{0x1800, std::vector<uint8_t>(0x10, 0x11)}},
                                {{0x2800, 0x2900}});
    std::vector<uint8_t> out(0x1000);
    auto got = overlay.read(0x1000, out);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0x1000u);
    EXPECT_EQ(out[0x7ff], 0xbb);
    EXPECT_EQ(out[0x800], 0x11);
    EXPECT_EQ(out[0x80f], 0x11);
    EXPECT_EQ(out[0x810], 0xbb);
    got = overlay.read(0x2000, out);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0x800u);  // stops at the hole
    got = overlay.read(0x2900, std::span<uint8_t>(out.data(), 0x100));
    EXPECT_EQ(*got, 0x100u);  // after it, the base again
}

TEST(OverlayMemory, APatchCanStandWhereTheBaseHasNothing) {
    auto base = std::make_shared<FakeMemory>();
    OverlayMemorySource overlay(base, {{0x5000, std::vector<uint8_t>(0x20, 0x42)}}, {});
    std::vector<uint8_t> out(0x40);
    auto got = overlay.read(0x5000, out);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0x20u);
    EXPECT_EQ(out[0x1f], 0x42);
}

TEST(OverlayMemory, RedirectsReadTheOtherSourceAndRememberWhatItLacked) {
    auto base = std::make_shared<FakeMemory>();
    base->put(0x1000, std::vector<uint8_t>(0x4000, 0x00));  // the clone: zeros there
    auto target = std::make_shared<FakeMemory>();
    target->put(0x2000, std::vector<uint8_t>(0x1000, 0x44));
    OverlayMemorySource overlay(base, {}, {});
    overlay.redirect(target, {{0x2000, 0x3000}, {0x4000, 0x5000}});
    std::vector<uint8_t> out(0x2000);
    auto got = overlay.read(0x1000, out);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0x2000u);
    EXPECT_EQ(out[0xfff], 0x00);
    EXPECT_EQ(out[0x1000], 0x44);
    EXPECT_EQ(out[0x1fff], 0x44);
    EXPECT_FALSE(overlay.failed_redirect());
    got = overlay.read(0x3000, out);  // the target no longer has 0x4000-0x5000
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0x1000u);
    ASSERT_TRUE(overlay.failed_redirect());
    EXPECT_EQ(overlay.failed_redirect()->start, 0x4000u);
    EXPECT_EQ(overlay.failed_redirect()->end, 0x5000u);
}

Mapping anonymous(uint64_t start, uint64_t end, bool write) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.read = true;
    m.write = write;
    return m;
}

TEST(CloneRegions, UnforkedRegionsAreCopiedInThePauseOnlyWhenAllFitTheBudget) {
    std::vector<Mapping> maps = {anonymous(0x1000, 0x3000, true), anonymous(0x5000, 0x7000, true),
                                 anonymous(0x9000, 0xa000, true)};
    maps[0].dont_fork = true;
    maps[2].wipe_on_fork = true;
    auto small = unforked_regions(maps, 0x3000);
    ASSERT_EQ(small.size(), 2u);
    EXPECT_STREQ(small[0].advice, "MADV_DONTFORK");
    EXPECT_STREQ(small[1].advice, "MADV_WIPEONFORK");
    EXPECT_TRUE(small[0].copy_in_pause && small[1].copy_in_pause);
    auto large = unforked_regions(maps, 0x2fff);
    ASSERT_EQ(large.size(), 2u);
    EXPECT_FALSE(large[0].copy_in_pause || large[1].copy_in_pause);
    maps[0].read = false;  // nothing to read there: not a region the dump must cover
    EXPECT_EQ(unforked_regions(maps, 0).size(), 1u);
}

TEST(CloneRegions, MappingsMissingFromTheCloneAreFoundInOnePass) {
    std::vector<Mapping> target = {
        anonymous(0x1000, 0x2000, true), anonymous(0x2000, 0x3000, false),
        anonymous(0x4000, 0x6000, true), anonymous(0x7000, 0x8000, true)};
    std::vector<Mapping> clone = {target[0], anonymous(0x4000, 0x5000, true), target[3]};
    auto missing = mappings_missing_from_clone(target, clone);
    ASSERT_EQ(missing.size(), 2u);
    EXPECT_EQ(missing[0]->start, 0x2000u);  // absent from the clone
    EXPECT_EQ(missing[1]->start, 0x4000u);  // a different end: not the same mapping
    target[1].dont_fork = true;             // already covered as an unforked region
    EXPECT_EQ(mappings_missing_from_clone(target, clone).size(), 1u);
}

// The clone's mappings are compared with the target's for every dump: 150,000 mappings (a
// JVM or an allocator can have that many) must take milliseconds, not the seconds a
// comparison of each mapping with every other takes.
TEST(CloneRegions, ComparingOneHundredFiftyThousandMappingsIsLinear) {
    std::vector<Mapping> target;
    for (uint64_t i = 0; i < 150000; ++i) {
        target.push_back(anonymous(0x10000000 + i * 0x1000, 0x10000000 + (i + 1) * 0x1000, i % 2));
    }
    std::vector<Mapping> clone = target;
    clone.erase(clone.begin() + 149999);  // the last one is the worst case for a linear search
    const auto started = std::chrono::steady_clock::now();
    auto missing = mappings_missing_from_clone(target, clone);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0]->start, target.back().start);
    EXPECT_LT(ms, 100.0);  // quadratic: 150,000^2 / 2 comparisons, several seconds
}

// A mapped ELF: header and program headers at 0x400000, one executable PT_LOAD.
std::shared_ptr<FakeMemory> elf_with_text_ending_at(uint64_t text_end, std::vector<Mapping>& maps) {
    auto memory = std::make_shared<FakeMemory>();
    std::vector<uint8_t> head(0x1000);
    Elf64_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    ehdr.e_type = ET_DYN;
    ehdr.e_phoff = sizeof ehdr;
    ehdr.e_phentsize = sizeof(Elf64_Phdr);
    ehdr.e_phnum = 2;
    Elf64_Phdr ph[2]{};
    ph[0] = {PT_LOAD, PF_R, 0, 0, 0, 0x1000, 0x1000, 0x1000};
    ph[1] = {PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x1000, text_end - 0x401000, text_end - 0x401000,
             0x1000};
    std::memcpy(head.data(), &ehdr, sizeof ehdr);
    std::memcpy(head.data() + sizeof ehdr, ph, sizeof ph);
    memory->put(0x400000, head);
    Mapping r{};
    r.start = 0x400000;
    r.end = 0x401000;
    r.read = true;
    r.path = "/usr/bin/target";
    r.inode = 1;
    Mapping x = r;
    x.start = 0x401000;
    x.end = 0x403000;
    x.offset = 0x1000;
    x.exec = true;
    maps = {r, x};
    return memory;
}

TEST(InjectionSite, IsTheAlignedPaddingAfterTheExecutableSegment) {
    std::vector<Mapping> maps;
    auto memory = elf_with_text_ending_at(0x402123, maps);
    auto site = find_injection_site(maps, *memory, "/usr/bin/target", 4096);
    ASSERT_TRUE(site.ok()) << site.error().message;
    EXPECT_EQ(site->address, 0x402130u);
    EXPECT_EQ(site->path, "/usr/bin/target");
}

TEST(InjectionSite, TooLittlePaddingOrAMarkedMappingIsRefused) {
    std::vector<Mapping> maps;
    auto memory = elf_with_text_ending_at(0x402fa0, maps);  // 96 bytes before the page ends
    EXPECT_FALSE(find_injection_site(maps, *memory, "/usr/bin/target", 4096).ok());
    memory = elf_with_text_ending_at(0x402123, maps);
    maps[1].dont_fork = true;
    EXPECT_FALSE(find_injection_site(maps, *memory, "/usr/bin/target", 4096).ok());
}

}  // namespace
}  // namespace dumpscope
