// Memory of a snapshot as the memory commands show it: bytes with a mark for each byte the dump
// does not hold, numbers in WinDbg's syntax, C strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

struct MemoryBytes {
    uint64_t address = 0;
    std::vector<uint8_t> data;
    std::vector<bool> in_dump;  // per byte
    bool present(uint64_t i) const { return in_dump[i]; }
    uint64_t present_count() const;
};

// Reads [address, address + length): present where the snapshot's memory holds the byte. A
// range that would pass the end of the address space is cut there.
MemoryBytes read_memory_bytes(const Snapshot& snapshot, uint64_t address, uint64_t length);

struct AsciiString {
    std::string value;      // up to the NUL or the first missing byte
    std::string printable;  // non-printable characters as \xNN
    bool complete = false;  // ended with a NUL inside the dump
};
AsciiString ascii_string(const MemoryBytes& bytes);

// "7ffcc9a6e800", "0x7ffc`c9a6e800", "00007ffc`c9a6e800": hexadecimal, WinDbg's default radix.
Result<uint64_t> parse_windbg_number(const std::string& text);

}  // namespace dumpscope::analysis
