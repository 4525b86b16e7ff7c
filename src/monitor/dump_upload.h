// Sends a dump where Breakpad and Crashpad clients send theirs (the library's crash handler and
// the core_pattern collector both use it): HTTP POST multipart/form-data,
// the dump in the `upload_file_minidump` part, each annotation (the dump's DumpscopeAnnotations
// stream) as a part of its own, as Socorro, Sentry and the dump service accept. http:// only
// (the helper has no TLS); the answer must be 2xx.
#pragma once

#include <string>

#include "common/result.h"

namespace dumpscope {

Status upload_dump(const std::string& url, const std::string& dump_path);

}  // namespace dumpscope
