// Independent decoding of what two dumps of one process must agree on: thread ids and register
// contexts, modules, and memory bytes. Minidumps (ThreadList, ModuleList, Memory64List/MemoryList)
// and ELF cores (NT_PRSTATUS, PT_LOAD) are read here from the format documents, not with
// dumpscope's own readers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "support.h"

namespace test_support {

struct DecodedDump {
    std::map<uint32_t, std::vector<uint8_t>> threads;  // tid -> register context bytes
    std::vector<std::tuple<uint64_t, uint64_t, std::string>> modules;  // base, size, name
    std::map<uint64_t, std::vector<uint8_t>> memory;                   // start -> bytes
};

namespace dump_compare_detail {

template <typename T>
T at(const std::vector<uint8_t>& f, uint64_t off) {
    T v{};
    if (off + sizeof(T) <= f.size()) std::memcpy(&v, f.data() + off, sizeof(T));
    return v;
}

inline std::vector<uint8_t> slice(const std::vector<uint8_t>& f, uint64_t off, uint64_t size) {
    if (off > f.size() || size > f.size() - off) return {};
    return std::vector<uint8_t>(f.begin() + static_cast<long>(off),
                                f.begin() + static_cast<long>(off + size));
}

inline DecodedDump decode_minidump(const std::vector<uint8_t>& f) {
    DecodedDump d;
    for (const DecodedStream& s : minidump_streams(f)) {
        if (s.type == 3) {  // ThreadList: MINIDUMP_THREAD is 48 bytes, context at +40
            const uint32_t n = at<uint32_t>(f, s.rva);
            for (uint32_t i = 0; i < n; ++i) {
                const uint64_t t = s.rva + 4 + 48ull * i;
                d.threads[at<uint32_t>(f, t)] =
                    slice(f, at<uint32_t>(f, t + 44), at<uint32_t>(f, t + 40));
            }
        } else if (s.type == 4) {  // ModuleList: MINIDUMP_MODULE is 108 bytes
            const std::vector<std::string> names = minidump_module_names(f);
            const uint32_t n = at<uint32_t>(f, s.rva);
            for (uint32_t i = 0; i < n && i < names.size(); ++i) {
                const uint64_t m = s.rva + 4 + 108ull * i;
                d.modules.emplace_back(at<uint64_t>(f, m), at<uint32_t>(f, m + 8), names[i]);
            }
        } else if (s.type == 9) {  // Memory64List
            const uint64_t n = at<uint64_t>(f, s.rva);
            uint64_t rva = at<uint64_t>(f, s.rva + 8);
            for (uint64_t i = 0; i < n; ++i) {
                const uint64_t start = at<uint64_t>(f, s.rva + 16 + 16 * i);
                const uint64_t size = at<uint64_t>(f, s.rva + 24 + 16 * i);
                d.memory[start] = slice(f, rva, size);
                rva += size;
            }
        } else if (s.type == 5) {  // MemoryList
            const uint32_t n = at<uint32_t>(f, s.rva);
            for (uint32_t i = 0; i < n; ++i) {
                const uint64_t m = s.rva + 4 + 16ull * i;
                d.memory[at<uint64_t>(f, m)] =
                    slice(f, at<uint32_t>(f, m + 12), at<uint32_t>(f, m + 8));
            }
        }
    }
    return d;
}

// NT_PRSTATUS: pr_pid at 32, the 27 general registers at 112. PT_LOAD: bytes in the file.
inline DecodedDump decode_core(const std::vector<uint8_t>& f) {
    DecodedDump d;
    const uint64_t phoff = at<uint64_t>(f, 32);
    const uint16_t phentsize = at<uint16_t>(f, 54);
    uint64_t phnum = at<uint16_t>(f, 56);
    if (phnum == 0xffff) phnum = at<uint32_t>(f, at<uint64_t>(f, 40) + 44);
    for (uint64_t i = 0; i < phnum; ++i) {
        const uint64_t ph = phoff + i * phentsize;
        const uint32_t type = at<uint32_t>(f, ph);
        const uint64_t offset = at<uint64_t>(f, ph + 8);
        const uint64_t filesz = at<uint64_t>(f, ph + 32);
        if (type == 1 && filesz > 0) d.memory[at<uint64_t>(f, ph + 16)] = slice(f, offset, filesz);
        if (type != 4) continue;  // PT_NOTE
        for (uint64_t n = offset; n + 12 <= offset + filesz;) {
            const uint32_t namesz = at<uint32_t>(f, n), descsz = at<uint32_t>(f, n + 4);
            const uint32_t ntype = at<uint32_t>(f, n + 8);
            const uint64_t desc = n + 12 + ((namesz + 3) & ~3u);
            if (ntype == 1 && descsz >= 112 + 27 * 8) {  // NT_PRSTATUS
                d.threads[at<uint32_t>(f, desc + 32)] = slice(f, desc + 112, 27 * 8);
            }
            n = desc + ((descsz + 3) & ~3u);
        }
    }
    return d;
}

}  // namespace dump_compare_detail

inline DecodedDump decode_dump(const std::vector<uint8_t>& file) {
    const bool minidump = file.size() >= 4 && std::memcmp(file.data(), "MDMP", 4) == 0;
    return minidump ? dump_compare_detail::decode_minidump(file)
                    : dump_compare_detail::decode_core(file);
}

struct MemoryComparison {
    uint64_t compared = 0;   // bytes held by both dumps
    uint64_t different = 0;  // of those, bytes that differ
    uint64_t first_difference = 0;
};

// Every byte at an address both dumps hold, whatever their ranges' boundaries.
inline MemoryComparison compare_memory(const DecodedDump& a, const DecodedDump& b) {
    MemoryComparison result;
    for (const auto& [a_start, a_bytes] : a.memory) {
        const uint64_t a_end = a_start + a_bytes.size();
        auto it = b.memory.upper_bound(a_start);
        if (it != b.memory.begin()) --it;
        for (; it != b.memory.end() && it->first < a_end; ++it) {
            const uint64_t lo = std::max(a_start, it->first);
            const uint64_t hi = std::min(a_end, it->first + it->second.size());
            if (lo >= hi) continue;
            if (std::memcmp(&a_bytes[lo - a_start], &it->second[lo - it->first], hi - lo) == 0) {
                result.compared += hi - lo;
                continue;
            }
            for (uint64_t addr = lo; addr < hi; ++addr) {
                ++result.compared;
                if (a_bytes[addr - a_start] == it->second[addr - it->first]) continue;
                if (result.different++ == 0) result.first_difference = addr;
            }
        }
    }
    return result;
}

}  // namespace test_support
