// read_modules, read_mappings and read_handles of minidump_reader_parts.h.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "minidump/minidump_decoders.h"
#include "minidump/minidump_format.h"
#include "minidump/minidump_reader_parts.h"
#include "minidump/page_protection.h"
#include "minidump/utf16.h"
#include "procfs/maps_parser.h"

namespace dumpscope::minidump {

namespace {

constexpr size_t kMinHandleDescriptor = 32;  // MINIDUMP_HANDLE_DESCRIPTOR: handle .. pointer count

Mapping mapping_of(uint64_t start, uint64_t end, uint32_t protect) {
    Mapping m;
    m.start = start;
    m.end = end;
    const PageAccess access = page_access(protect);
    m.read = access.read;
    m.write = access.write;
    m.exec = access.execute;
    return m;
}

Status mappings_from_memory_info(std::span<const uint8_t> stream, const Snapshot& s,
                                 std::vector<Mapping>& out) {
    auto header = read_struct<MemoryInfoListHeader>(stream, 0, "MemoryInfoListStream");
    if (!header.ok()) return header.error();
    const uint64_t header_size = header->size_of_header;
    const uint64_t entry_size = header->size_of_entry;
    if (header_size < sizeof(MemoryInfoListHeader) || header_size > stream.size() ||
        entry_size < sizeof(MemoryInfo)) {
        return Error{
            fmt::format("MemoryInfoListStream has a header of {} bytes and entries of "
                        "{} bytes",
                        header_size, entry_size)};
    }
    const uint64_t room = (stream.size() - header_size) / entry_size;
    if (header->number_of_entries > room) {
        return Error{fmt::format("MemoryInfoListStream claims {} entries but has room for {}",
                                 header->number_of_entries, room)};
    }
    for (uint64_t i = 0; i < header->number_of_entries; ++i) {
        MemoryInfo info;
        std::memcpy(&info, stream.data() + header_size + i * entry_size, sizeof(info));
        if (info.state == kMemFree || info.region_size == 0) continue;
        if (info.region_size > UINT64_MAX - info.base_address) {
            return Error{fmt::format("MemoryInfoListStream region {:#x} of {} bytes wraps around",
                                     info.base_address, info.region_size)};
        }
        Mapping m =
            mapping_of(info.base_address, info.base_address + info.region_size, info.protect);
        // A WRITECOPY view is private; other mapped views may be shared (maps would tell).
        m.shared = info.type == kMemMapped && !page_access(info.protect).copy_on_write;
        if (info.type == kMemImage) {
            if (const dumpscope::Module* module = s.module_at(m.start)) m.path = module->path;
        }
        out.push_back(std::move(m));
    }
    return {};
}

// No map at all: the modules' ranges and the dumped memory outside them.
void mappings_from_ranges(Snapshot& s) {
    for (const dumpscope::Module& module : s.modules) {
        Mapping m = mapping_of(module.base, module.end, kPageExecuteRead);
        m.path = module.path;
        s.mappings.push_back(std::move(m));
    }
    const auto* memory = dynamic_cast<const RangeMemorySource*>(s.memory.get());
    if (memory == nullptr) return;
    for (const DumpMemoryRange& range : memory->ranges()) {
        uint64_t at = range.address;
        while (at < range.end()) {
            const dumpscope::Module* inside = s.module_at(at);
            if (inside != nullptr) {
                at = inside->end;
                continue;
            }
            uint64_t end = range.end();
            for (const dumpscope::Module& module : s.modules) {
                if (module.base > at && module.base < end) end = module.base;
            }
            s.mappings.push_back(mapping_of(at, end, kPageReadWrite));
            at = end;
        }
    }
    std::sort(s.mappings.begin(), s.mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
}

// A module ends where the last mapping of its file ends (before the file is mapped again). The
// mapping at its base names the file (lldb may name it through a symbolic link: /lib/...).
void widen_modules(Snapshot& s) {
    for (dumpscope::Module& module : s.modules) {
        auto it = std::lower_bound(s.mappings.begin(), s.mappings.end(), module.base,
                                   [](const Mapping& m, uint64_t at) { return m.start < at; });
        if (it == s.mappings.end() || it->start != module.base || !it->file_backed() ||
            it->offset != 0) {
            continue;
        }
        const std::string& file = it->path;
        // A MINIDUMP_STRING holds UTF-16: a path whose bytes are not UTF-8 came out with U+FFFD
        // in them. The maps text has the bytes: the path the symbols are found by.
        if (module.path != file && utf16le_to_utf8(utf8_to_utf16le(file)) == module.path) {
            module.path = file;
        }
        uint64_t end = it->end;
        for (++it; it != s.mappings.end() && it->path == file && it->offset != 0; ++it) {
            end = it->end;
        }
        module.end = std::max(module.end, end);
    }
}

}  // namespace

Status read_modules(const MinidumpFile& file, Snapshot& s) {
    auto decoded = decode_modules(file);
    if (!decoded.ok()) return decoded.error();
    for (const DecodedModule& entry : *decoded) {
        dumpscope::Module module;
        module.path = entry.name;
        if (module.path.rfind("[vdso]", 0) == 0) module.path = kVdsoModuleName;  // lldb's name
        module.base = entry.entry.base_of_image;
        if (entry.entry.size_of_image > UINT64_MAX - module.base) {
            return Error{fmt::format("module {} at {:#x} of {} bytes wraps around", module.path,
                                     module.base, entry.entry.size_of_image)};
        }
        module.end = module.base + entry.entry.size_of_image;
        const std::span<const uint8_t> cv = entry.cv_record;
        uint32_t signature = 0;
        if (cv.size() >= sizeof(signature)) {
            std::memcpy(&signature, cv.data(), sizeof(signature));
            if (signature == kCvSignatureElfBuildId) {
                module.build_id.assign(cv.begin() + sizeof(signature), cv.end());
            }
        }
        s.modules.push_back(std::move(module));
    }
    std::sort(
        s.modules.begin(), s.modules.end(),
        [](const dumpscope::Module& a, const dumpscope::Module& b) { return a.base < b.base; });
    return {};
}

Status read_mappings(const MinidumpFile& file, Snapshot& s) {
    std::vector<Mapping> from_info;  // read even when maps wins, so damage is never skipped
    if (const auto info = file.stream(StreamType::MemoryInfoList)) {
        DS_TRY(mappings_from_memory_info(*info, s, from_info));
        std::sort(from_info.begin(), from_info.end(),
                  [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    }
    if (!s.process.maps.empty()) {
        auto mappings = parse_maps(s.process.maps);
        if (!mappings.ok()) return Error{"LinuxMaps: " + mappings.error().message};
        s.mappings = std::move(*mappings);
    } else if (!from_info.empty()) {
        s.mappings = std::move(from_info);
    } else {
        mappings_from_ranges(s);
    }
    widen_modules(s);
    return {};
}

Status read_handles(const MinidumpFile& file, Snapshot& s) {
    const auto stream = file.stream(StreamType::HandleData);
    if (!stream) return {};
    auto header = read_struct<HandleDataHeader>(*stream, 0, "HandleDataStream");
    if (!header.ok()) return header.error();
    const uint64_t header_size = header->size_of_header;
    const uint64_t entry_size = header->size_of_descriptor;
    if (header_size < sizeof(HandleDataHeader) || header_size > stream->size() ||
        entry_size < kMinHandleDescriptor) {
        return Error{
            fmt::format("HandleDataStream has a header of {} bytes and descriptors of "
                        "{} bytes",
                        header_size, entry_size)};
    }
    const uint64_t room = (stream->size() - header_size) / entry_size;
    if (header->number_of_descriptors > room) {
        return Error{fmt::format("HandleDataStream claims {} descriptors but has room for {}",
                                 header->number_of_descriptors, room)};
    }
    for (uint64_t i = 0; i < header->number_of_descriptors; ++i) {
        HandleDescriptor2 d{};
        std::memcpy(&d, stream->data() + header_size + i * entry_size, kMinHandleDescriptor);
        FileDescriptor fd;
        fd.fd = static_cast<int32_t>(d.handle);
        fd.flags = d.granted_access;
        if (d.type_name_rva != 0) {
            auto type =
                file.string_at(d.type_name_rva, fmt::format("the type of handle {}", fd.fd));
            if (!type.ok()) return type.error();
            fd.type = std::move(*type);
        }
        if (d.object_name_rva != 0) {
            auto target =
                file.string_at(d.object_name_rva, fmt::format("the name of handle {}", fd.fd));
            if (!target.ok()) return target.error();
            fd.target = std::move(*target);
        }
        s.fds.push_back(std::move(fd));
    }
    return {};
}

}  // namespace dumpscope::minidump
