#include "procfs/signal_names.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace dumpscope {

namespace {

// The table's numbers are those of this system's <signal.h>.
#define DS_SIGNAL(name, number, description) \
    static_assert(SIG##name == (number), "signals.def: SIG" #name);
#define DS_SIGNAL_ALIAS(name, number) \
    static_assert(SIG##name == (number), "signals.def: SIG" #name);
#include "procfs/signals.def"
#undef DS_SIGNAL
#undef DS_SIGNAL_ALIAS

struct NamedSignal {
    const char* name;  // without the SIG prefix
    int number;
    const char* description;  // nullptr for an alias
};

constexpr NamedSignal kSignals[] = {
#define DS_SIGNAL(name, number, description) {#name, number, description},
#define DS_SIGNAL_ALIAS(name, number) {#name, number, nullptr},
#include "procfs/signals.def"
#undef DS_SIGNAL
#undef DS_SIGNAL_ALIAS
};

constexpr SiCode kSiCodes[] = {
#define DS_SI_CODE(signo, name, value, description) {signo, value, #name, description},
#include "procfs/si_codes.def"
#undef DS_SI_CODE
};

const NamedSignal* named(int signo) {
    for (const NamedSignal& s : kSignals) {
        if (s.number == signo && s.description != nullptr) return &s;
    }
    return nullptr;
}

bool realtime(int signo) { return signo >= SIGRTMIN && signo <= SIGRTMAX; }

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// 1 to 3 decimal digits.
std::optional<int> small_number(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (without SIG).
std::optional<int> realtime_number(std::string_view name) {
    for (const bool from_min : {true, false}) {
        const std::string_view base = from_min ? "RTMIN" : "RTMAX";
        if (name.substr(0, base.size()) != base) continue;
        std::string_view rest = name.substr(base.size());
        int offset = 0;
        if (!rest.empty()) {
            if (rest[0] != (from_min ? '+' : '-')) return std::nullopt;
            auto n = small_number(rest.substr(1));
            if (!n) return std::nullopt;
            offset = *n;
        }
        const int signo = from_min ? SIGRTMIN + offset : SIGRTMAX - offset;
        if (!realtime(signo)) return std::nullopt;
        return signo;
    }
    return std::nullopt;
}

Error unknown_signal(std::string_view text) {
    return Error{
        fmt::format("unknown signal '{}' (use a name like SIGUSR2 or USR2, or a number)", text)};
}

}  // namespace

std::string signal_name(int signo) {
    if (const NamedSignal* s = named(signo)) return std::string("SIG") + s->name;
    if (realtime(signo)) {
        return signo == SIGRTMIN ? "SIGRTMIN" : fmt::format("SIGRTMIN+{}", signo - SIGRTMIN);
    }
    return fmt::format("signal {}", signo);
}

std::string signal_description(int signo) {
    if (const NamedSignal* s = named(signo)) return s->description;
    if (realtime(signo)) return fmt::format("Real-time signal {}", signo - SIGRTMIN);
    return {};
}

Result<int> parse_signal(std::string_view text) {
    if (auto number = small_number(text)) {
        if (*number < 1 || *number > SIGRTMAX) return unknown_signal(text);
        return *number;
    }
    std::string name = upper(text);
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    for (const NamedSignal& s : kSignals) {
        if (name == s.name) return s.number;
    }
    if (auto signo = realtime_number(name)) return *signo;
    return unknown_signal(text);
}

std::optional<SiCode> find_si_code(int signo, int code) {
    for (const SiCode& c : kSiCodes) {
        if (c.signo == 0 && c.code == code) return c;
    }
    for (const SiCode& c : kSiCodes) {
        if (c.signo != 0 && c.signo == signo && c.code == code) return c;
    }
    return std::nullopt;
}

std::optional<SiCode> find_si_code(std::string_view name) {
    for (const SiCode& c : kSiCodes) {
        if (name == c.name) return c;
    }
    return std::nullopt;
}

std::string si_code_name(int signo, int code) {
    auto c = find_si_code(signo, code);
    return c ? c->name : "";
}

std::string si_code_description(int signo, int code) {
    auto c = find_si_code(signo, code);
    return c ? c->description : "";
}

}  // namespace dumpscope
