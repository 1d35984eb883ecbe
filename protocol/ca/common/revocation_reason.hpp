#pragma once
// RFC 5280 CRLReason names and codes, the vocabulary SCM and the CLI use;
// each driver maps them onto its CA's own names.

#include <optional>
#include <string_view>

namespace cbcs::protocol::ca {

// "keyCompromise" -> 1, ...; nullopt for an unknown name.
std::optional<int> revocation_reason_code(std::string_view name);
// The accepted names, comma-separated, for error messages.
std::string_view revocation_reason_names();

}  // namespace cbcs::protocol::ca
