#pragma once
// Checks and summaries that several backend types share. None of them puts
// the value it checks into its error text.

#include <string>
#include <string_view>

#include "protocol/ca/backend_type.hpp"

namespace cbcs::protocol::ca {

std::string check_https_url(std::string_view value);
std::string check_pem_certificates(std::string_view content);
std::string check_private_key(std::string_view content);
// A name of letters, digits and '-', '_', '.' (regions, projects, locations).
std::string check_identifier(std::string_view value);
// Printable ASCII without spaces: API keys, key ids, passwords.
std::string check_token_text(std::string_view value);

// The -ratelimit text form (rate_limits.hpp).
std::string check_rate_limits(std::string_view value);
// A duration such as 30d, 12h, 90m, 45s (1 s to 10 years).
std::string check_duration(std::string_view value);
// 1 to 1,000,000.
std::string check_positive_count(std::string_view value);

// A client certificate and its key given as two options (mutual TLS, an
// enrollment agent): "" when either is absent or the key is the
// certificate's (its first, the leaf), else the error naming -key_option.
// For a type's check_all: [](const option_values& v) { return check_key_pair(v, "cert", "key"); }
std::string check_key_pair(const option_values& values, std::string_view cert_option,
                           std::string_view key_option);

std::string summarize_certificates(std::string_view content);
std::string summarize_private_key(std::string_view content);

}  // namespace cbcs::protocol::ca
