// What a dump reader found missing at the end of a file cut short (`ulimit -c`, a full disk, a
// copy interrupted): the reader keeps what is there, memory past the end reads as absent, and
// this says once what is gone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dumpscope {

struct Truncation {
    uint64_t file_size = 0;
    uint64_t expected_size = 0;    // where the file's own headers say its contents end
    std::vector<std::string> cut;  // what lies partly or wholly past the end, in file order
    uint64_t memory_ranges_cut = 0;
    uint64_t memory_bytes_absent = 0;  // bytes of memory ranges that are past the end

    bool truncated() const { return expected_size > file_size; }
    // Records one more item that is past the end, whose contents end at `end` (file offset).
    void add(std::string what, uint64_t end);
    // One more memory range of `size` bytes of which `present` are in the file.
    void add_memory(uint64_t size, uint64_t present, uint64_t end);
};

// One line: "PATH is truncated: N bytes missing (the file has X of Y bytes): cut: A, B, ...;
// M memory ranges (Z bytes) read as absent". Empty when nothing is missing.
std::string describe_truncation(const std::string& path, const Truncation& truncation);

}  // namespace dumpscope
