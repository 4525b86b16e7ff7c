#include "service/ingest_load.h"

#include <algorithm>
#include <thread>

namespace dumpscope::service {

int IngestLoad::default_busy_at() {
    return std::max(8, 4 * static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace dumpscope::service
