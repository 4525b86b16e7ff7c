// SIGINT/SIGTERM/SIGHUP during a dump: set the cancel flag so the dump stops cleanly (the
// target is resumed and the temporary file removed by their RAII owners).
#pragma once

namespace dumpscope {

void install_cancel_handlers();

}  // namespace dumpscope
