// What the library and its helper (dumpscope-handler) say to each other over a SOCK_SEQPACKET
// socket pair: fixed-size messages, so neither side allocates while the process is stopped or
// crashing. Both ends are built from this one header, so there is no version to negotiate.
//
//   library -> helper  kGo           write mode: PR_SET_PTRACER is set, start
//                      kCrash        a thread crashed: its tid, siginfo and ucontext address
//                      kDumpNow      dumpscope_write_dump_now() from thread `tid`
//                      kCallbackDone the routine's answer to one kCallback
//   helper -> library  kCallback     call the routine with this input
//                      kDone         the dump is written (ok) or why not (text)
#pragma once

#include <dumpscope/dumpscope.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace dumpscope::wire {

// The helper's descriptors, as the library passes them (dup2 before exec).
inline constexpr int kChannelFd = 3;   // requests and callbacks
inline constexpr int kCrashFd = 4;     // the crash handler's crash messages (crash mode)
inline constexpr int kOutputFd = 4;    // the dump (write mode)
inline constexpr int kSettingsFd = 5;  // a memfd with the settings (settings.h)

enum class Kind : uint32_t {
    kCrash = 1,
    kDumpNow = 2,
    kCallback = 3,
    kCallbackDone = 4,
    kDone = 5,
    kGo = 6,  // library -> helper (write mode): it may trace the process now
};

inline constexpr size_t kTextSize = 4096;
inline constexpr size_t kBuildIdSize = 64;

struct Message {
    Kind kind = Kind::kDone;
    int32_t tid = 0;     // kCrash, kDumpNow: the thread
    int32_t result = 0;  // kCallbackDone: the routine's return; kDone: 1 = written
    uint32_t text_size = 0;
    uint64_t ucontext_address = 0;       // kCrash: the handler's ucontext_t, in the process
    std::array<uint8_t, 128> siginfo{};  // kCrash
    dumpscope_callback_input input{};    // kCallback (pointers are not sent: text, build_id)
    dumpscope_callback_output output{};  // kCallback: the preset flags; kCallbackDone
    uint32_t build_id_size = 0;
    std::array<uint8_t, kBuildIdSize> build_id{};
    std::array<char, kTextSize> text{};  // kCallback: the module path; kDone: path or error

    void set_text(std::string_view s);
    std::string_view text_view() const { return {text.data(), text_size}; }
};

// One whole message each way; EINTR retried. Errors say which end went away.
Status send_message(int fd, const Message& message);
// Waits at most timeout_ms (-1: forever). Nullopt on timeout; an error when the other end
// closed or sent something that is not a whole message.
Result<std::optional<Message>> receive_message(int fd, int timeout_ms);

}  // namespace dumpscope::wire
