#include "monitor/trigger_signals.h"

#include <signal.h>

#include <algorithm>

#include "procfs/signal_names.h"

namespace dumpscope {

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

}  // namespace dumpscope
