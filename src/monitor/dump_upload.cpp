#include "monitor/dump_upload.h"

#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "minidump/annotations_stream.h"
#include "minidump/minidump_file.h"

namespace dumpscope {

namespace {

struct Url {
    std::string host, port = "80", path = "/";
};

Result<Url> parse_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0)
        return Error{"upload URL " + url + ": only http:// is supported"};
    Url u;
    std::string rest = url.substr(scheme.size());
    const size_t slash = rest.find('/');
    if (slash != std::string::npos) {
        u.path = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
        u.port = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
    }
    u.host = rest;
    if (u.host.empty()) return Error{"upload URL " + url + " has no host"};
    return u;
}

Result<UniqueFd> connect_to(const Url& u) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int err = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found); err != 0)
        return Error{fmt::format("cannot resolve {}: {}", u.host, ::gai_strerror(err))};
    Error last{fmt::format("cannot connect to {}:{}", u.host, u.port)};
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
        if (fd.get() < 0) continue;
        timeval timeout{60, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
            ::freeaddrinfo(found);
            return fd;
        }
        last = errno_error(fmt::format("cannot connect to {}:{}", u.host, u.port));
    }
    ::freeaddrinfo(found);
    return last;
}

Status send_all(int fd, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error("cannot send the dump");
        done += static_cast<size_t>(n);
    }
    return {};
}

std::string base_name_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status upload_dump(const std::string& url, const std::string& dump_path) {
    auto u = parse_url(url);
    if (!u.ok()) return u.error();
    std::ifstream in(dump_path, std::ios::binary);
    if (!in) return Error{"cannot read " + dump_path + " to upload it"};
    in.seekg(0, std::ios::end);
    const auto dump_size = static_cast<uint64_t>(in.tellg());
    in.seekg(0);

    std::vector<std::pair<std::string, std::string>> annotations;
    if (auto file = minidump::MinidumpFile::open(dump_path); file.ok()) {
        if (auto stream = file->stream(minidump::StreamType::DumpscopeAnnotations)) {
            if (auto decoded = decode_annotations_stream(*stream); decoded.ok())
                annotations = std::move(*decoded);
        }
    }
    std::random_device rd;
    const std::string boundary = fmt::format("dumpscope-{:08x}{:08x}", rd(), rd());
    std::string body;
    for (const auto& [key, value] : annotations) {
        // A name that would break out of its quotes or its header line is not sent.
        if (key.find_first_of("\"\r\n") != std::string::npos) continue;
        body += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
                            boundary, key, value);
    }
    body += fmt::format(
        "--{}\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; "
        "filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        boundary, base_name_of(dump_path));
    // The dump itself is streamed from the file between `body` and `tail`.
    const std::string tail = fmt::format("\r\n--{}--\r\n", boundary);
    const std::string head = fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: dumpscope-handler\r\n"
        "Content-Type: multipart/form-data; boundary={}\r\nContent-Length: {}\r\n"
        "Connection: close\r\n\r\n",
        u->path, u->host, u->port, boundary, body.size() + dump_size + tail.size());

    auto fd = connect_to(*u);
    if (!fd.ok()) return fd.error();
    DS_TRY(send_all(fd->get(), head));
    DS_TRY(send_all(fd->get(), body));
    std::string chunk(1 << 20, '\0');
    for (uint64_t sent = 0; sent < dump_size;) {
        in.read(chunk.data(),
                static_cast<std::streamsize>(std::min<uint64_t>(chunk.size(), dump_size - sent)));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) return Error{"cannot read " + dump_path + " to upload it"};
        DS_TRY(send_all(fd->get(), std::string_view(chunk.data(), got)));
        sent += got;
    }
    DS_TRY(send_all(fd->get(), tail));
    char answer[512];
    size_t got = 0;
    while (got < sizeof answer - 1) {
        const ssize_t n = ::recv(fd->get(), answer + got, sizeof answer - 1 - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        if (std::string_view(answer, got).find("\r\n") != std::string_view::npos) break;
    }
    const std::string status_line(
        answer, std::string_view(answer, got).find("\r\n") == std::string_view::npos
                    ? got
                    : std::string_view(answer, got).find("\r\n"));
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12 || status_line[9] != '2')
        return Error{fmt::format("uploading {} to {}: the server answered '{}'", dump_path, url,
                                 status_line)};
    return {};
}

}  // namespace dumpscope
