#include "monitor/signal_names.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace dumpscope {

namespace {

struct NamedSignal {
    const char* name;  // without the SIG prefix
    int number;
};

constexpr NamedSignal kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

bool parse_small_int(const std::string& text, int& out) {
    if (text.empty() || text.size() > 3) return false;
    if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
        return false;
    out = std::atoi(text.c_str());
    return true;
}

Error unknown_signal(const std::string& text) {
    return Error{"unknown signal '" + text + "' (use a name like SIGUSR2 or USR2, or a number)"};
}

}  // namespace

Result<int> parse_signal(const std::string& text) {
    int number = 0;
    if (parse_small_int(text, number)) {
        if (number < 1 || number > SIGRTMAX) return unknown_signal(text);
        return number;
    }
    std::string name = upper(text);
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    for (const NamedSignal& s : kSignals)
        if (name == s.name) return s.number;
    for (const char* base : {"RTMIN", "RTMAX"}) {
        const std::string prefix = base;
        if (name.rfind(prefix, 0) != 0) continue;
        const bool from_min = prefix == "RTMIN";
        const std::string rest = name.substr(prefix.size());
        int offset = 0;
        if (!rest.empty() && !parse_small_int(rest.substr(1), offset)) return unknown_signal(text);
        if (!rest.empty() && rest[0] != (from_min ? '+' : '-')) return unknown_signal(text);
        const int signo = from_min ? SIGRTMIN + offset : SIGRTMAX - offset;
        if (signo < SIGRTMIN || signo > SIGRTMAX) return unknown_signal(text);
        return signo;
    }
    return unknown_signal(text);
}

Result<std::vector<int>> parse_signal_list(const std::vector<std::string>& items) {
    std::vector<int> signals;
    for (const std::string& item : items) {
        auto signo = parse_signal(item);
        if (!signo.ok()) return signo.error();
        if (*signo == SIGKILL || *signo == SIGSTOP)
            return Error{signal_name(*signo) + " cannot be caught, so it cannot trigger a dump"};
        if (std::find(signals.begin(), signals.end(), *signo) == signals.end())
            signals.push_back(*signo);
    }
    return signals;
}

std::string signal_name(int signo) {
    for (const NamedSignal& s : kSignals)
        if (s.number == signo) return std::string("SIG") + s.name;
    if (signo >= SIGRTMIN && signo <= SIGRTMAX)
        return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    return "signal " + std::to_string(signo);
}

}  // namespace dumpscope
