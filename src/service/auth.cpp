#include "service/auth.h"

namespace dumpscope::service {

bool token_equals(std::string_view given, std::string_view token) {
    unsigned difference = given.size() == token.size() ? 0u : 1u;
    for (size_t i = 0; i < token.size(); ++i) {
        const auto expected = static_cast<unsigned char>(token[i]);
        const auto got = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
        difference |= static_cast<unsigned>(expected ^ got);
    }
    return difference == 0 && !token.empty();
}

bool bearer_authorized(std::string_view authorization, std::string_view token) {
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.substr(0, kScheme.size()) != kScheme) return false;
    return token_equals(authorization.substr(kScheme.size()), token);
}

}  // namespace dumpscope::service
