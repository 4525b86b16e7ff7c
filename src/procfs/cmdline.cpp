#include "procfs/cmdline.h"

namespace dumpscope {

std::vector<std::string> split_nul(const std::string& raw) {
    std::vector<std::string> parts;
    size_t begin = 0;
    while (begin < raw.size()) {
        size_t end = raw.find('\0', begin);
        if (end == std::string::npos) end = raw.size();
        parts.push_back(raw.substr(begin, end - begin));
        begin = end + 1;
    }
    return parts;
}

}  // namespace dumpscope
