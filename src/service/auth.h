// The API token: `Authorization: Bearer TOKEN`, compared in time that depends on the configured
// token's length only, never on where a guess first differs.
#pragma once

#include <string>
#include <string_view>

namespace dumpscope::service {

bool token_equals(std::string_view given, std::string_view token);
// True if `authorization` (the header's value) is "Bearer " followed by the token.
bool bearer_authorized(std::string_view authorization, std::string_view token);

}  // namespace dumpscope::service
