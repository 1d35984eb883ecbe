#pragma once
// RFC 5280 CRLReason names and codes, the vocabulary SCM and the CLI use;
// each driver maps them onto its CA's own names.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cbcs::protocol::ca {

// "keyCompromise" -> 1, ...; nullopt for an unknown name.
std::optional<int> revocation_reason_code(std::string_view name);
// The accepted names, comma-separated, for error messages.
std::string_view revocation_reason_names();

// One CA's word for an RFC 5280 reason code. A CA's table lists exactly the
// reasons it accepts; what it lacks is refused before any request goes out.
struct reason_word {
  int code;
  std::string_view word;
};

// The CA's word for `rfc5280_name` ("" is unspecified), or `error`: an
// unknown name, or one the CA (called `ca_title`) does not accept, with the
// names it does accept. The name is matched without regard to case.
struct mapped_reason {
  std::string_view word;
  std::string error;
};
mapped_reason map_revocation_reason(std::string_view rfc5280_name,
                                    std::span<const reason_word> table, std::string_view ca_title);

}  // namespace cbcs::protocol::ca
