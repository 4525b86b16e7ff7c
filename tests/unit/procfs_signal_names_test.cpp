// The signal and si_code tables of src/procfs (signals.def, si_codes.def): every name parses
// back to its number, realtime signals are named from SIGRTMIN, descriptions are glibc's
// strsignal() text, and si_code values are those of <signal.h>.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <set>
#include <string>

#include "procfs/signal_names.h"

namespace dumpscope {
namespace {

TEST(ProcfsSignalNames, EveryNameParsesBackToItsNumber) {
    for (int signo = 1; signo <= SIGRTMAX; ++signo) {
        const std::string name = signal_name(signo);
        if (signo < SIGRTMIN && signo > SIGSYS) {
            EXPECT_EQ(name, "signal " + std::to_string(signo)) << "reserved by the C library";
            continue;
        }
        ASSERT_EQ(name.rfind("SIG", 0), 0u) << signo;
        auto parsed = parse_signal(name);
        ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.error().message;
        EXPECT_EQ(*parsed, signo) << name;
        auto without_prefix = parse_signal(name.substr(3));
        ASSERT_TRUE(without_prefix.ok()) << name;
        EXPECT_EQ(*without_prefix, signo) << name;
    }
}

TEST(ProcfsSignalNames, NamesAndNumbersAreThoseOfSignalH) {
    EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
    EXPECT_EQ(signal_name(SIGUSR2), "SIGUSR2");
    EXPECT_EQ(signal_name(SIGSTKFLT), "SIGSTKFLT");
    EXPECT_EQ(signal_name(SIGSYS), "SIGSYS");
    EXPECT_EQ(signal_name(SIGABRT), "SIGABRT") << "the alias SIGIOT is never printed";
    EXPECT_EQ(*parse_signal("IOT"), SIGIOT);
    EXPECT_EQ(*parse_signal("SIGPOLL"), SIGPOLL);
    EXPECT_EQ(*parse_signal("cld"), SIGCHLD);
    EXPECT_EQ(*parse_signal("usr2"), SIGUSR2);
    EXPECT_EQ(*parse_signal("12"), 12);
    EXPECT_EQ(signal_name(0), "signal 0");
    EXPECT_EQ(signal_name(SIGRTMAX + 1), "signal " + std::to_string(SIGRTMAX + 1));
}

TEST(ProcfsSignalNames, RealtimeSignalsAreNamedFromSigrtmin) {
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(signal_name(SIGRTMAX), "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN));
    EXPECT_EQ(*parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(*parse_signal("rtmin"), SIGRTMIN);
    EXPECT_EQ(*parse_signal("SIGRTMAX"), SIGRTMAX);
    EXPECT_EQ(*parse_signal("RTMAX-2"), SIGRTMAX - 2);
    EXPECT_FALSE(parse_signal("SIGRTMIN-1").ok()) << "RTMIN counts up, RTMAX down";
    EXPECT_FALSE(parse_signal("SIGRTMAX+1").ok());
    EXPECT_FALSE(parse_signal("SIGRTMIN+99").ok()) << "past SIGRTMAX";
    EXPECT_FALSE(parse_signal("SIGRTMIN+").ok());
}

TEST(ProcfsSignalNames, BadTextIsAnErrorNamingIt) {
    for (const char* bad : {"", "0", "65", "999", "1000", "SIGNOPE", "SIG", "-1", "USR2x"}) {
        auto parsed = parse_signal(bad);
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_NE(parsed.error().message.find(std::string("'") + bad + "'"), std::string::npos)
            << parsed.error().message;
    }
}

TEST(ProcfsSignalNames, DescriptionsAreStrsignalsText) {
    for (int signo = 1; signo <= SIGSYS; ++signo) {
        EXPECT_EQ(signal_description(signo), ::strsignal(signo)) << signo;
    }
    for (int signo = SIGRTMIN; signo <= SIGRTMAX; ++signo) {
        EXPECT_EQ(signal_description(signo), ::strsignal(signo)) << signo;
    }
    EXPECT_EQ(signal_description(0), "");
}

TEST(ProcfsSiCodes, GenericCodesApplyToEverySignal) {
    for (int signo : {SIGSEGV, SIGUSR1, SIGTERM, SIGRTMIN + 1}) {
        EXPECT_EQ(si_code_name(signo, SI_USER), "SI_USER");
        EXPECT_EQ(si_code_name(signo, SI_KERNEL), "SI_KERNEL");
        EXPECT_EQ(si_code_name(signo, SI_QUEUE), "SI_QUEUE");
        EXPECT_EQ(si_code_name(signo, SI_TKILL), "SI_TKILL");
        EXPECT_EQ(si_code_name(signo, SI_TIMER), "SI_TIMER");
    }
    EXPECT_EQ(si_code_description(SIGUSR1, SI_TKILL), "sent by tkill or tgkill");
}

TEST(ProcfsSiCodes, SignalCodesDependOnTheSignal) {
    EXPECT_EQ(si_code_name(SIGSEGV, SEGV_MAPERR), "SEGV_MAPERR");
    EXPECT_EQ(si_code_name(SIGSEGV, SEGV_ACCERR), "SEGV_ACCERR");
    EXPECT_EQ(si_code_name(SIGBUS, 1), "BUS_ADRALN") << "the same value names another code";
    EXPECT_EQ(si_code_name(SIGTRAP, TRAP_TRACE), "TRAP_TRACE");
    EXPECT_EQ(si_code_name(SIGTRAP, TRAP_BRKPT), "TRAP_BRKPT");
    EXPECT_EQ(si_code_name(SIGTRAP, TRAP_HWBKPT), "TRAP_HWBKPT");
    EXPECT_EQ(si_code_name(SIGFPE, FPE_FLTUNK), "FPE_FLTUNK");
    EXPECT_EQ(si_code_name(SIGCHLD, CLD_DUMPED), "CLD_DUMPED");
    EXPECT_EQ(si_code_description(SIGSEGV, SEGV_MAPERR), "address not mapped to object");
    EXPECT_EQ(si_code_name(SIGUSR1, 1), "") << "SIGUSR1 has no codes of its own";
    EXPECT_EQ(si_code_name(SIGSEGV, 77), "");
    EXPECT_EQ(si_code_description(SIGSEGV, 77), "");
}

// Every entry of the table, by name and by (signal, value), back to itself; the values the C
// library defines are the same.
TEST(ProcfsSiCodes, EveryEntryRoundTripsAndMatchesSignalH) {
    std::set<std::string> names;
#define DS_SI_CODE(sig, id, val, text)                                      \
    {                                                                       \
        auto by_name = find_si_code(#id);                                   \
        ASSERT_TRUE(by_name.has_value()) << #id;                            \
        EXPECT_EQ(by_name->signo, sig) << #id;                              \
        EXPECT_EQ(by_name->code, val) << #id;                               \
        EXPECT_STREQ(by_name->description, text) << #id;                    \
        EXPECT_EQ(si_code_name(sig == 0 ? SIGSEGV : sig, val), #id) << #id; \
        EXPECT_TRUE(names.insert(#id).second) << #id << " twice";           \
    }
#include "procfs/si_codes.def"
#undef DS_SI_CODE
    EXPECT_FALSE(find_si_code("SEGV_NOPE").has_value());

    const std::pair<const char*, int> from_signal_h[] = {
        {"SI_USER", SI_USER},
        {"SI_KERNEL", SI_KERNEL},
        {"SI_QUEUE", SI_QUEUE},
        {"SI_TIMER", SI_TIMER},
        {"SI_MESGQ", SI_MESGQ},
        {"SI_ASYNCIO", SI_ASYNCIO},
        {"SI_SIGIO", SI_SIGIO},
        {"SI_TKILL", SI_TKILL},
        {"SI_DETHREAD", SI_DETHREAD},
        {"SI_ASYNCNL", SI_ASYNCNL},
        {"ILL_ILLOPC", ILL_ILLOPC},
        {"ILL_ILLOPN", ILL_ILLOPN},
        {"ILL_ILLADR", ILL_ILLADR},
        {"ILL_ILLTRP", ILL_ILLTRP},
        {"ILL_PRVOPC", ILL_PRVOPC},
        {"ILL_PRVREG", ILL_PRVREG},
        {"ILL_COPROC", ILL_COPROC},
        {"ILL_BADSTK", ILL_BADSTK},
        {"ILL_BADIADDR", ILL_BADIADDR},
        {"TRAP_BRKPT", TRAP_BRKPT},
        {"TRAP_TRACE", TRAP_TRACE},
        {"TRAP_BRANCH", TRAP_BRANCH},
        {"TRAP_HWBKPT", TRAP_HWBKPT},
        {"TRAP_UNK", TRAP_UNK},
        {"BUS_ADRALN", BUS_ADRALN},
        {"BUS_ADRERR", BUS_ADRERR},
        {"BUS_OBJERR", BUS_OBJERR},
        {"BUS_MCEERR_AR", BUS_MCEERR_AR},
        {"BUS_MCEERR_AO", BUS_MCEERR_AO},
        {"FPE_INTDIV", FPE_INTDIV},
        {"FPE_INTOVF", FPE_INTOVF},
        {"FPE_FLTDIV", FPE_FLTDIV},
        {"FPE_FLTOVF", FPE_FLTOVF},
        {"FPE_FLTUND", FPE_FLTUND},
        {"FPE_FLTRES", FPE_FLTRES},
        {"FPE_FLTINV", FPE_FLTINV},
        {"FPE_FLTSUB", FPE_FLTSUB},
        {"FPE_FLTUNK", FPE_FLTUNK},
        {"FPE_CONDTRAP", FPE_CONDTRAP},
        {"SEGV_MAPERR", SEGV_MAPERR},
        {"SEGV_ACCERR", SEGV_ACCERR},
        {"SEGV_BNDERR", SEGV_BNDERR},
        {"SEGV_PKUERR", SEGV_PKUERR},
        {"SEGV_ACCADI", SEGV_ACCADI},
        {"SEGV_ADIDERR", SEGV_ADIDERR},
        {"SEGV_ADIPERR", SEGV_ADIPERR},
        {"SEGV_MTEAERR", SEGV_MTEAERR},
        {"SEGV_MTESERR", SEGV_MTESERR},
        {"CLD_EXITED", CLD_EXITED},
        {"CLD_KILLED", CLD_KILLED},
        {"CLD_DUMPED", CLD_DUMPED},
        {"CLD_TRAPPED", CLD_TRAPPED},
        {"CLD_STOPPED", CLD_STOPPED},
        {"CLD_CONTINUED", CLD_CONTINUED},
        {"POLL_IN", POLL_IN},
        {"POLL_OUT", POLL_OUT},
        {"POLL_MSG", POLL_MSG},
        {"POLL_ERR", POLL_ERR},
        {"POLL_PRI", POLL_PRI},
        {"POLL_HUP", POLL_HUP},
    };
    for (const auto& [name, value] : from_signal_h) {
        auto entry = find_si_code(name);
        ASSERT_TRUE(entry.has_value()) << name;
        EXPECT_EQ(entry->code, value) << name;
    }
}

}  // namespace
}  // namespace dumpscope
