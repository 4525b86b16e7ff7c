#include "api/handler_settings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/little_endian.h"

namespace dumpscope {

namespace {

constexpr uint64_t kMaxSettings = 1ull << 30;

// JSON string contents: quotes, backslashes and control characters escaped.
std::string json_escaped(const std::string& in) {
    std::string out;
    out.reserve(in.size());
    for (const char c : in) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::vector<uint8_t> encode_settings(const HandlerSettings& s) {
    // Written by hand (fmt), read with nlohmann::json: the crash handler's install encodes this
    // and must stay well under a millisecond.
    const std::string text = fmt::format(
        "{{\"pid\":{},\"dump_type\":{},\"dump_dir\":\"{}\",\"upload_url\":\"{}\","
        "\"has_callback\":{},\"leave_running\":[{}],\"annotations_address\":{},"
        "\"exception_tid\":{},\"siginfo_address\":{},\"ucontext_address\":{},"
        "\"user_streams\":{}}}",
        s.pid, s.dump_type, json_escaped(s.dump_dir), json_escaped(s.upload_url), s.has_callback,
        fmt::join(s.leave_running, ","), s.annotations_address, s.exception_tid, s.siginfo_address,
        s.ucontext_address, s.user_streams.size());
    // Sized up front and filled by offset: g++ 12 at -O3 warns falsely on vector::insert here.
    size_t total = 4 + text.size();
    for (const UserStream& stream : s.user_streams) total += 8 + stream.bytes().size();
    std::vector<uint8_t> out(total);
    size_t at = 0;
    const auto put = [&](const void* bytes, size_t size) {
        if (size != 0) std::memcpy(out.data() + at, bytes, size);
        at += size;
    };
    const auto put_le32 = [&](uint32_t v) {
        store_le32(out, at, v);
        at += 4;
    };
    put_le32(static_cast<uint32_t>(text.size()));
    put(text.data(), text.size());
    for (const UserStream& stream : s.user_streams) {
        put_le32(stream.type);
        put_le32(static_cast<uint32_t>(stream.bytes().size()));
        put(stream.bytes().data(), stream.bytes().size());
    }
    return out;
}

Result<HandlerSettings> decode_settings(const std::vector<uint8_t>& bytes) {
    auto bad = [](const std::string& what) {
        return Error{"the helper's settings are malformed: " + what};
    };
    if (bytes.size() < 4) return bad("shorter than its length field");
    const uint32_t json_size = load_le32(bytes, 0);
    if (json_size > bytes.size() - 4) return bad("the JSON runs past the end");
    HandlerSettings s;
    size_t streams = 0;
    try {
        const auto j = nlohmann::json::parse(bytes.begin() + 4, bytes.begin() + 4 + json_size);
        s.pid = j.at("pid").get<int32_t>();
        s.dump_type = j.at("dump_type").get<uint32_t>();
        s.dump_dir = j.at("dump_dir").get<std::string>();
        s.upload_url = j.at("upload_url").get<std::string>();
        s.has_callback = j.at("has_callback").get<bool>();
        s.leave_running = j.at("leave_running").get<std::vector<int32_t>>();
        s.annotations_address = j.at("annotations_address").get<uint64_t>();
        s.exception_tid = j.at("exception_tid").get<int32_t>();
        s.siginfo_address = j.at("siginfo_address").get<uint64_t>();
        s.ucontext_address = j.at("ucontext_address").get<uint64_t>();
        streams = j.at("user_streams").get<size_t>();
    } catch (const nlohmann::json::exception& e) {
        return bad(e.what());
    }
    size_t at = 4 + json_size;
    for (size_t i = 0; i < streams; ++i) {
        if (bytes.size() - at < 8) return bad("user stream " + std::to_string(i) + " is cut");
        const uint32_t type = load_le32(bytes, at);
        const uint32_t size = load_le32(bytes, at + 4);
        at += 8;
        if (size > bytes.size() - at) return bad("user stream " + std::to_string(i) + " is cut");
        s.user_streams.push_back(UserStream::of(
            type, std::vector<uint8_t>(bytes.begin() + static_cast<long>(at),
                                       bytes.begin() + static_cast<long>(at + size))));
        at += size;
    }
    if (at != bytes.size()) return bad("bytes after the last user stream");
    return s;
}

Result<int> settings_memfd(const HandlerSettings& settings) {
    const std::vector<uint8_t> bytes = encode_settings(settings);
    const int fd = ::memfd_create("dumpscope-settings", MFD_CLOEXEC);
    if (fd < 0) return errno_error("cannot create the helper's settings (memfd_create)");
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            Error error = errno_error("cannot write the helper's settings");
            ::close(fd);
            return error;
        }
        done += static_cast<size_t>(n);
    }
    return fd;
}

Result<std::vector<uint8_t>> read_settings_fd(int fd) {
    std::vector<uint8_t> bytes;
    uint8_t buffer[65536];
    for (off_t at = 0;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot read the helper's settings");
        if (n == 0) break;
        bytes.insert(bytes.end(), buffer, buffer + n);
        at += n;
        if (bytes.size() > kMaxSettings) return Error{"the helper's settings exceed 1 GiB"};
    }
    return bytes;
}

}  // namespace dumpscope
