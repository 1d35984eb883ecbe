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
// true or false (settings_problems::flag reads it).
std::string check_flag(std::string_view value);
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

// The -cert and -key of a type that presents a client certificate (its
// runtime_policy::client_identity), declared once: every file form an
// administrator has (option_files.hpp), sealed; `help` (a literal) says
// when the type needs them.
inline option_spec client_certificate_option(std::string_view help) {
  return {.name = "cert",
          .kind = option_kind::secret_file,
          .value_name = "FILE",
          .help = help,
          .check = check_pem_certificates,
          .summary = summarize_certificates,
          .form = file_form::certificates};
}
inline option_spec client_key_option(std::string_view help) {
  return {.name = "key",
          .kind = option_kind::secret_file,
          .value_name = "FILE",
          .help = help,
          .check = check_private_key,
          .summary = summarize_private_key,
          .form = file_form::private_key};
}
// Help texts that say what the two files may be.
#define CBCS_CLIENT_CERTIFICATE_FORMS                                                       \
  "PEM or DER (.cer), with or without its chain, or a .p7b (read and sealed; the file may " \
  "be deleted afterwards)"
#define CBCS_CLIENT_KEY_FORMS                                                              \
  "PKCS#8 (.pkcs8), PKCS#1 or SEC1, PEM or DER; an encrypted PKCS#8 with -keypassword - " \
  "(read, checked against -cert and sealed; the file may be deleted afterwards)"

}  // namespace cbcs::protocol::ca
