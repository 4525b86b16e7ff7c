// Pure text helpers of the PostgreSQL backend (postgres_backend.cpp), apart to be tested alone.
#pragma once

#include <string>
#include <string_view>

namespace dumpscope::service {

// The service's SQL numbers its parameters `?1 ?2` (SQLite's form); PostgreSQL's are `$1 $2`.
// Rewrites each `?N` outside string literals ('...'), quoted identifiers ("...") and comments
// (-- and /* */); a `?` without digits is left as it is.
std::string postgres_parameters(std::string_view sql);

// A postgresql:// URL fit for messages and logs: the password of `user:password@` and a
// `password=` query parameter become `***`.
std::string redact_database_url(std::string_view url);

}  // namespace dumpscope::service
