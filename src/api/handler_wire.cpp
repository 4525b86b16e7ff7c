#include "api/handler_wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dumpscope::wire {

void Message::set_text(std::string_view s) {
    text_size = static_cast<uint32_t>(std::min(s.size(), text.size()));
    std::memcpy(text.data(), s.data(), text_size);
}

Status send_message(int fd, const Message& message) {
    for (;;) {
        const ssize_t sent = ::send(fd, &message, sizeof message, MSG_NOSIGNAL);
        if (sent == static_cast<ssize_t>(sizeof message)) return {};
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0) return errno_error("cannot send to the dumpscope helper");
        return Error{"short send to the dumpscope helper"};
    }
}

Result<std::optional<Message>> receive_message(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return errno_error("cannot wait for the dumpscope helper");
        if (ready == 0) return std::optional<Message>();
        break;
    }
    Message message;
    for (;;) {
        const ssize_t got = ::recv(fd, &message, sizeof message, MSG_TRUNC);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return errno_error("cannot read from the dumpscope helper");
        if (got == 0) return Error{"the other end of the dumpscope helper's socket closed"};
        if (got != static_cast<ssize_t>(sizeof message))
            return Error{"a message of " + std::to_string(got) + " bytes on the helper's socket (" +
                         std::to_string(sizeof message) + " expected)"};
        if (message.text_size > message.text.size() ||
            message.build_id_size > message.build_id.size())
            return Error{"a malformed message on the dumpscope helper's socket"};
        return std::optional<Message>(message);
    }
}

}  // namespace dumpscope::wire
