#include "diagnosis/glibc_malloc_layout.h"

#include <fmt/format.h>

#include <charconv>

namespace dumpscope {

namespace {

constexpr GlibcVersion kFirstKnown{2, 26};  // tcache arrived in 2.26
constexpr GlibcVersion kLastKnown{2, 41};   // 2.42 has more tcache bins: not checked yet

bool before(GlibcVersion a, GlibcVersion b) {
    return a.major != b.major ? a.major < b.major : a.minor < b.minor;
}

}  // namespace

std::string GlibcVersion::text() const { return fmt::format("{}.{}", major, minor); }

std::optional<GlibcVersion> parse_glibc_banner(std::string_view text) {
    static constexpr std::string_view kBanner = "GNU C Library";
    static constexpr std::string_view kRelease = "release version ";
    const size_t banner = text.find(kBanner);
    if (banner == std::string_view::npos) return std::nullopt;
    const size_t line_end = text.find('\n', banner);
    const std::string_view line = text.substr(
        banner, line_end == std::string_view::npos ? std::string_view::npos : line_end - banner);
    const size_t at = line.find(kRelease);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = line.substr(at + kRelease.size());
    GlibcVersion v;
    auto [dot, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v.major);
    if (ec != std::errc() || dot == rest.data() + rest.size() || *dot != '.') return std::nullopt;
    auto [end, ec2] = std::from_chars(dot + 1, rest.data() + rest.size(), v.minor);
    if (ec2 != std::errc() || end == dot + 1) return std::nullopt;
    return v;
}

std::optional<MallocLayout> malloc_layout_for(GlibcVersion version) {
    if (before(version, kFirstKnown) || before(kLastKnown, version)) return std::nullopt;
    MallocLayout l;
    l.version = version;
    l.fastbin_count = 10;
    // malloc_state: int mutex; int flags; [int have_fastchunks since 2.27]; mfastbinptr
    // fastbinsY[10]; mchunkptr top; mchunkptr last_remainder; mchunkptr bins[254]; unsigned int
    // binmap[4]; struct malloc_state *next, *next_free; INTERNAL_SIZE_T attached_threads,
    // system_mem, max_system_mem.
    l.arena_fastbins = before(version, {2, 27}) ? 8 : 16;
    l.arena_top = l.arena_fastbins + 8 * l.fastbin_count;
    const uint64_t bins = l.arena_top + 16;     // after top and last_remainder
    const uint64_t binmap = bins + 8 * 254;     // NBINS * 2 - 2 pointers
    l.arena_next = binmap + 16;                 // 4 unsigned ints
    l.arena_system_mem = l.arena_next + 8 * 3;  // after next, next_free, attached_threads
    l.arena_size = l.arena_system_mem + 8 * 2;  // system_mem, max_system_mem
    // heap_info: ar_ptr, prev, size, mprotect_size, [pagesize since 2.35], padded to 16.
    l.heap_info_size = before(version, {2, 35}) ? 32 : 48;
    // tcache_perthread_struct: counts[64] (char before 2.30, uint16_t since), entries[64].
    l.tcache_bins = 64;
    l.tcache_count_bytes = before(version, {2, 30}) ? 1 : 2;
    l.tcache_struct_size = l.tcache_bins * l.tcache_count_bytes + 8 * l.tcache_bins;
    l.safe_linking = !before(version, {2, 32});
    return l;
}

std::string known_malloc_layouts() {
    return fmt::format("{} to {}", kFirstKnown.text(), kLastKnown.text());
}

}  // namespace dumpscope
