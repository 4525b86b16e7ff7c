#include "minidump/process_streams.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "arch/arch.h"
#include "common/paths.h"
#include "minidump/page_protection.h"

namespace dumpscope::minidump {

namespace {

constexpr uint64_t kNanosecondsPerSecond = 1000000000ull;

uint32_t clamp_to_u32(uint64_t value) {
    return static_cast<uint32_t>(std::min<uint64_t>(value, std::numeric_limits<uint32_t>::max()));
}

// cpuid(1).eax from family/model/stepping (Intel's encoding of extended family and model).
uint32_t cpuid_version_information(uint32_t family, uint32_t model, uint32_t stepping) {
    const uint32_t base_family = std::min<uint32_t>(family, 0xf);
    const uint32_t extended_family = family > 0xf ? family - 0xf : 0;
    return (stepping & 0xf) | ((model & 0xf) << 4) | (base_family << 8) |
           (((model >> 4) & 0xf) << 16) | ((extended_family & 0xff) << 20);
}

// The module whose file a mapping belongs to, if any.
const dumpscope::Module* image_of(const Snapshot& snapshot, const Mapping& mapping) {
    const dumpscope::Module* module = snapshot.module_at(mapping.start);
    if (module == nullptr || module->path != mapping.path) return nullptr;
    return module;
}

}  // namespace

LocationDescriptor append_system_info(StreamBlob& blob, const dumpscope::SystemInfo& system) {
    const std::string csd =
        system.sysname + " " + system.release + " " + system.version + " " + system.machine;
    const uint64_t csd_offset = blob.append_string(csd);

    minidump::SystemInfo info{};
    info.processor_architecture = kArchAmd64;
    info.processor_level = static_cast<uint16_t>(system.cpu_family);
    info.processor_revision =
        static_cast<uint16_t>(((system.cpu_model & 0xff) << 8) | (system.cpu_stepping & 0xff));
    info.number_of_processors = static_cast<uint8_t>(std::min<uint32_t>(system.cpu_count, 255));
    unsigned major = 0, minor = 0, build = 0;
    if (std::sscanf(system.release.c_str(), "%u.%u.%u", &major, &minor, &build) >= 1) {
        info.major_version = major;
        info.minor_version = minor;
        info.build_number = build;
    }
    info.platform_id = kPlatformLinux;
    info.csd_version_rva = static_cast<uint32_t>(csd_offset);
    char vendor[12] = {};
    std::copy_n(system.cpu_vendor.begin(), std::min<size_t>(system.cpu_vendor.size(), 12), vendor);
    std::memcpy(info.cpu.vendor_id, vendor, sizeof(vendor));
    info.cpu.version_information =
        cpuid_version_information(system.cpu_family, system.cpu_model, system.cpu_stepping);

    blob.align(8);
    const uint64_t start = blob.append(info);
    return blob.location_since(start);
}

LocationDescriptor append_misc_info(StreamBlob& blob, const ProcessInfo& process) {
    MiscInfo info{};
    info.size_of_info = sizeof(MiscInfo);
    info.flags1 = kMiscInfoProcessId | kMiscInfoProcessTimes;
    info.process_id = static_cast<uint32_t>(process.pid);
    info.process_create_time = clamp_to_u32(process.start_time_unix_ns / kNanosecondsPerSecond);
    info.process_user_time = clamp_to_u32(process.user_time_ns / kNanosecondsPerSecond);
    info.process_kernel_time = clamp_to_u32(process.kernel_time_ns / kNanosecondsPerSecond);
    blob.align(8);
    const uint64_t start = blob.append(info);
    return blob.location_since(start);
}

LocationDescriptor append_module_list(StreamBlob& blob, const Snapshot& snapshot,
                                      const DumpContent& content) {
    std::vector<minidump::Module> entries;
    entries.reserve(content.modules.size());
    for (size_t index : content.modules) {
        const dumpscope::Module& module = snapshot.modules[index];
        minidump::Module entry{};
        entry.base_of_image = module.base;
        entry.size_of_image = clamp_to_u32(module.size());
        const std::string name =
            content.module_basenames_only ? base_name(module.path) : module.path;
        entry.module_name_rva = static_cast<uint32_t>(blob.append_string(name));
        entry.version_info.signature = kVsFixedFileInfoSignature;
        entry.version_info.struct_version = kVsFixedFileInfoVersion;
        if (!module.build_id.empty()) {
            blob.align(4);
            const uint64_t cv_start = blob.append(kCvSignatureElfBuildId);
            blob.append_bytes(module.build_id);
            entry.cv_record = blob.location_since(cv_start);
        }
        entries.push_back(entry);
    }
    blob.align(8);
    const uint64_t start = blob.append(static_cast<uint32_t>(entries.size()));
    for (const minidump::Module& entry : entries) blob.append(entry);
    return blob.location_since(start);
}

LocationDescriptor append_exception(StreamBlob& blob, const ExceptionInfo& exception) {
    blob.align(16);
    const arch::MinidumpRegisters regs =
        arch::ops_or_first(exception.context).to_minidump(exception.context);
    const uint64_t context_offset = blob.append_bytes(regs.context);

    ExceptionStream stream{};
    stream.thread_id = static_cast<uint32_t>(exception.tid);
    stream.exception_record.exception_code = static_cast<uint32_t>(exception.signal.signo);
    stream.exception_record.exception_flags = static_cast<uint32_t>(exception.signal.code);
    stream.exception_record.exception_address = exception.signal.fault_address;
    stream.thread_context = {static_cast<uint32_t>(regs.context.size()),
                             static_cast<uint32_t>(context_offset)};
    blob.align(8);
    const uint64_t start = blob.append(stream);
    return blob.location_since(start);
}

LocationDescriptor append_memory_info_list(StreamBlob& blob, const Snapshot& snapshot) {
    blob.align(8);
    const MemoryInfoListHeader header{sizeof(MemoryInfoListHeader), sizeof(MemoryInfo),
                                      snapshot.mappings.size()};
    const uint64_t start = blob.append(header);
    for (const Mapping& mapping : snapshot.mappings) {
        MemoryInfo info{};
        info.base_address = mapping.start;
        info.allocation_base = mapping.start;
        info.region_size = mapping.size();
        info.state = kMemCommit;
        info.protect = page_protection(mapping);
        info.allocation_protect = info.protect;
        if (const dumpscope::Module* module = image_of(snapshot, mapping)) {
            info.type = kMemImage;
            info.allocation_base = module->base;
        } else if (mapping.file_backed() || mapping.shared) {
            info.type = kMemMapped;
        } else {
            info.type = kMemPrivate;
        }
        blob.append(info);
    }
    return blob.location_since(start);
}

LocationDescriptor append_handle_data(StreamBlob& blob, const Snapshot& snapshot) {
    std::vector<HandleDescriptor2> descriptors;
    descriptors.reserve(snapshot.fds.size());
    for (const FileDescriptor& fd : snapshot.fds) {
        HandleDescriptor2 descriptor{};
        descriptor.handle = static_cast<uint64_t>(static_cast<uint32_t>(fd.fd));
        descriptor.type_name_rva = static_cast<uint32_t>(blob.append_string(fd.type));
        descriptor.object_name_rva = static_cast<uint32_t>(blob.append_string(fd.target));
        descriptor.granted_access = fd.flags;  // the open(2) flags from fdinfo
        descriptor.handle_count = 1;
        descriptors.push_back(descriptor);
    }
    blob.align(8);
    const HandleDataHeader header{sizeof(HandleDataHeader), sizeof(HandleDescriptor2),
                                  static_cast<uint32_t>(descriptors.size()), 0};
    const uint64_t start = blob.append(header);
    for (const HandleDescriptor2& descriptor : descriptors) blob.append(descriptor);
    return blob.location_since(start);
}

LocationDescriptor append_raw_stream(StreamBlob& blob, std::span<const uint8_t> bytes) {
    blob.align(8);
    const uint64_t start = blob.append_bytes(bytes);
    return blob.location_since(start);
}

}  // namespace dumpscope::minidump
