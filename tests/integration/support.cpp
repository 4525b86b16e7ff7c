#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

void read_available(int fd, std::string& into, bool& open) {
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0)
        into.append(buf, static_cast<size_t>(n));
    else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        open = false;
}

template <typename T>
T load(const std::vector<uint8_t>& file, uint64_t offset) {
    T value{};
    if (offset + sizeof(T) > file.size() || offset + sizeof(T) < offset) return value;
    std::memcpy(&value, file.data() + offset, sizeof(T));
    return value;
}

}  // namespace

CommandResult run(const std::vector<std::string>& argv, int timeout_seconds) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    CommandResult result;
    bool out_open = true, err_open = true;
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
    bool timed_out = false;
    while (out_open || err_open) {
        pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
        const int ms = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        if (ms <= 0) {
            timed_out = true;
            break;
        }
        if (::poll(fds, 2, ms) <= 0) continue;
        if (out_open && (fds[0].revents & (POLLIN | POLLHUP)))
            read_available(out_pipe[0], result.out, out_open);
        if (err_open && (fds[1].revents & (POLLIN | POLLHUP)))
            read_available(err_pipe[0], result.err, err_open);
    }
    if (timed_out) ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (timed_out) result.err += "\n[test: command timed out and was killed]";
    return result;
}

std::string dumpscope_binary() { return DUMPSCOPE_BINARY; }
std::string fixture_path(const std::string& name) {
    return std::string(DUMPSCOPE_FIXTURE_DIR) + "/" + name;
}

bool have_program(const std::string& name) {
    return run({"sh", "-c", "command -v " + name}, 10).exit_code == 0;
}

namespace {

// A started program has printed its line; on a busy machine its main thread may still be in
// that write(), or between it and the call it then blocks in. Waits (up to 3 s, never failing:
// some programs keep running) until the main thread is blocked in another system call, so that
// two dumps taken one after the other see it in the same place.
void wait_until_main_thread_blocks(pid_t pid) {
    const std::string syscall_file = "/proc/" + std::to_string(pid) + "/syscall";
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < deadline) {
        std::ifstream in(syscall_file);
        std::string first;
        in >> first;
        const bool in_call = !first.empty() && first != "running" && first != "-1";
        if (in_call && first != std::to_string(SYS_write)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

// Starts `file` (through PATH with `search_path`) with `argv`, stdout on a pipe, and waits up to
// 60 s for its first line, parsed as JSON; then until its main thread blocks again. Throws, with
// the child killed and reaped, if no line comes.
static std::pair<pid_t, nlohmann::json> start_with_ready_line(const std::string& file,
                                                              const std::vector<std::string>& argv,
                                                              bool search_path,
                                                              const std::string& what) {
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_pipe[1], 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        if (search_path) {
            ::execvp(file.c_str(), args.data());
        } else {
            ::execv(file.c_str(), args.data());
        }
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    std::string line;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
        pollfd p{out_pipe[0], POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<size_t>(n));
    }
    ::close(out_pipe[0]);
    if (line.find('\n') == std::string::npos) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw std::runtime_error(what + " did not start");
    }
    nlohmann::json info = nlohmann::json::parse(line.substr(0, line.find('\n')));
    wait_until_main_thread_blocks(pid);
    return {pid, std::move(info)};
}

std::string collect_into(const std::string& dir, pid_t pid, const std::string& type,
                         const std::string& format, bool clone) {
    const std::string path =
        dir + "/" + type + (clone ? "-clone" : "") + (format == "core" ? ".core" : ".dmp");
    std::vector<std::string> argv{dumpscope_binary(), "collect", "--quiet", "--type", type,
                                  "--format",         format};
    if (clone) argv.push_back("--clone=required");
    argv.push_back(std::to_string(pid));
    argv.push_back(path);
    const CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
}

Fixture::Fixture(const std::string& name, const std::vector<std::string>& args,
                 const std::string& exec_name) {
    path_ = fixture_path(name);
    std::vector<std::string> argv = {exec_name.empty() ? path_ : exec_name};
    argv.insert(argv.end(), args.begin(), args.end());
    std::tie(pid_, info_) = start_with_ready_line(path_, argv, false, "fixture " + name);
}

Fixture::~Fixture() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

Program::Program(const std::vector<std::string>& argv) {
    std::tie(pid_, info_) = start_with_ready_line(argv.at(0), argv, true, "program " + argv[0]);
}

Program::~Program() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::vector<char> thread_states(pid_t pid) {
    std::vector<char> states;
    const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(task_dir.c_str());
    if (d == nullptr) return states;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream in(task_dir + "/" + e->d_name + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t paren = stat.rfind(')');
        if (paren != std::string::npos && paren + 2 < stat.size())
            states.push_back(stat[paren + 2]);
    }
    ::closedir(d);
    return states;
}

bool running_and_not_stopped(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    const std::vector<char> states = thread_states(pid);
    if (states.empty()) return false;
    for (char s : states)
        if (s == 't' || s == 'T' || s == 'Z' || s == 'X') return false;
    return true;
}

bool eventually_running(pid_t pid, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
        if (running_and_not_stopped(pid)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return running_and_not_stopped(pid);
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    const std::string task = "/proc/" + std::to_string(pid) + "/task/";
    DIR* dir = ::opendir(task.c_str());
    if (dir == nullptr) return out;
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream in(task + entry->d_name + "/children");
        for (pid_t child = 0; in >> child;) out.push_back(child);
    }
    ::closedir(dir);
    return out;
}

bool eventually_childless(pid_t pid, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
        if (children_of(pid).empty()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return children_of(pid).empty();
}

TempDir::TempDir(const std::string& base) {
    std::string pattern = base + "/dumpscope-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed in " + base);
    path_ = pattern;
}

TempDir::~TempDir() { run({"rm", "-rf", path_}, 60); }

std::vector<std::string> TempDir::files() const {
    std::vector<std::string> names;
    DIR* d = ::opendir(path_.c_str());
    if (d == nullptr) return names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    return names;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

nlohmann::json info_json(const std::string& dump) {
    CommandResult r = run({dumpscope_binary(), "info", "--json", dump});
    if (r.exit_code != 0) throw std::runtime_error("dumpscope info failed: " + r.err);
    return nlohmann::json::parse(r.out);
}

std::vector<DecodedStream> minidump_streams(const std::vector<uint8_t>& file) {
    std::vector<DecodedStream> streams;
    if (load<uint32_t>(file, 0) != 0x504d444d) return streams;
    const uint32_t count = load<uint32_t>(file, 8);
    const uint32_t dir = load<uint32_t>(file, 12);
    for (uint32_t i = 0; i < count && dir + 12ull * (i + 1) <= file.size(); ++i) {
        const uint64_t at = dir + 12ull * i;
        streams.push_back(
            {load<uint32_t>(file, at), load<uint32_t>(file, at + 4), load<uint32_t>(file, at + 8)});
    }
    return streams;
}

std::optional<uint64_t> minidump_read_u64(const std::vector<uint8_t>& file, uint64_t addr) {
    for (const DecodedStream& s : minidump_streams(file)) {
        if (s.type == 5) {  // MemoryList: u32 count, then {u64 start, u32 size, u32 rva}
            const uint32_t n = load<uint32_t>(file, s.rva);
            for (uint32_t i = 0; i < n; ++i) {
                const uint64_t d = s.rva + 4 + 16ull * i;
                const uint64_t start = load<uint64_t>(file, d);
                const uint32_t size = load<uint32_t>(file, d + 8);
                const uint32_t rva = load<uint32_t>(file, d + 12);
                if (addr >= start && addr + 8 <= start + size)
                    return load<uint64_t>(file, rva + (addr - start));
            }
        } else if (s.type == 9) {  // Memory64List: u64 count, u64 base rva, {u64 start, u64 size}
            const uint64_t n = load<uint64_t>(file, s.rva);
            uint64_t rva = load<uint64_t>(file, s.rva + 8);
            for (uint64_t i = 0; i < n; ++i) {
                const uint64_t d = s.rva + 16 + 16 * i;
                const uint64_t start = load<uint64_t>(file, d);
                const uint64_t size = load<uint64_t>(file, d + 8);
                if (addr >= start && addr + 8 <= start + size)
                    return load<uint64_t>(file, rva + (addr - start));
                rva += size;
            }
        }
    }
    return std::nullopt;
}

std::optional<uint64_t> core_read_u64(const std::vector<uint8_t>& file, uint64_t addr) {
    if (file.size() < 64 || std::memcmp(file.data(),
                                        "\x7f"
                                        "ELF",
                                        4) != 0)
        return std::nullopt;
    const uint64_t phoff = load<uint64_t>(file, 32);
    const uint16_t phentsize = load<uint16_t>(file, 54);
    uint64_t phnum = load<uint16_t>(file, 56);
    if (phnum == 0xffff)
        phnum = load<uint32_t>(file, load<uint64_t>(file, 40) + 44);  // sh_info of section 0
    for (uint64_t i = 0; i < phnum; ++i) {
        const uint64_t ph = phoff + i * phentsize;
        if (load<uint32_t>(file, ph) != 1) continue;  // PT_LOAD
        const uint64_t offset = load<uint64_t>(file, ph + 8);
        const uint64_t vaddr = load<uint64_t>(file, ph + 16);
        const uint64_t filesz = load<uint64_t>(file, ph + 32);
        if (addr >= vaddr && addr + 8 <= vaddr + filesz)
            return load<uint64_t>(file, offset + (addr - vaddr));
    }
    return std::nullopt;
}

std::optional<uint64_t> dump_read_u64(const std::vector<uint8_t>& file, uint64_t addr) {
    return load<uint32_t>(file, 0) == 0x504d444d ? minidump_read_u64(file, addr)
                                                 : core_read_u64(file, addr);
}

std::vector<std::string> minidump_module_names(const std::vector<uint8_t>& file) {
    std::vector<std::string> names;
    for (const DecodedStream& s : minidump_streams(file)) {
        if (s.type != 4) continue;  // ModuleList: u32 count, then 108-byte MINIDUMP_MODULE
        const uint32_t n = load<uint32_t>(file, s.rva);
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t name_rva = load<uint32_t>(file, s.rva + 4 + 108ull * i + 20);
            const uint32_t bytes = load<uint32_t>(file, name_rva);
            std::string name;
            for (uint32_t k = 0; k + 1 < bytes; k += 2)
                name += static_cast<char>(load<uint16_t>(file, name_rva + 4 + k));
            names.push_back(name);
        }
    }
    return names;
}

OneRequestServer::OneRequestServer(std::string answer) : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(address.sin_port);
}

OneRequestServer::~OneRequestServer() {
    if (listener_ >= 0) ::close(listener_);
}

std::string OneRequestServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string OneRequestServer::wait_for_request(int seconds) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, seconds * 1000) != 1) return "";
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return "";
    std::string request;
    char buffer[65536];
    size_t expected = std::string::npos;
    for (;;) {
        pollfd c{connection, POLLIN, 0};
        if (::poll(&c, 1, seconds * 1000) != 1) break;
        const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
        const size_t head_end = request.find("\r\n\r\n");
        if (expected == std::string::npos && head_end != std::string::npos) {
            const size_t at = request.find("Content-Length: ");
            if (at != std::string::npos && at < head_end)
                expected = head_end + 4 + std::stoul(request.substr(at + 16));
        }
        if (expected != std::string::npos && request.size() >= expected) break;
    }
    const std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer_.size()) + "\r\n\r\n" +
        answer_;
    (void)!::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(connection);
    return request;
}

std::string uploaded_dump(const std::string& request) {
    const std::string key = "multipart/form-data; boundary=";
    const size_t at = request.find(key);
    if (at == std::string::npos) return "";
    const size_t end = request.find("\r\n", at);
    const std::string delimiter = "\r\n--" + request.substr(at + key.size(), end - at - key.size());
    const size_t part = request.find("name=\"upload_file_minidump\"");
    if (part == std::string::npos) return "";
    const size_t body = request.find("\r\n\r\n", part);
    if (body == std::string::npos) return "";
    const size_t stop = request.find(delimiter, body + 4);
    if (stop == std::string::npos) return "";
    return request.substr(body + 4, stop - body - 4);
}

}  // namespace test_support
