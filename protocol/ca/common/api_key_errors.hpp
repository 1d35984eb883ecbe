#pragma once
// The failed outcome of an error answer from a service that takes an API
// key (DigiCert CertCentral, Entrust ECS): one wording for both, the key
// redacted from what the service said and masked where it is named.
//
//   401  "<what> failed: <service> refused the <who>: <said>"
//   403  "<what> failed: the <who> may not do this: <said>"
//   429  "<what>: <service>'s request limit was reached" (retried after
//        Retry-After; `rate_code` when the body names no code)
//   5xx  "<what>: <service> is unavailable: <said>" (retried)
//   else "<what> failed: <said>"

#include <chrono>
#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

struct api_key_service {
  std::string_view name;       // "CertCentral", "Entrust"
  std::string who;             // "API key ...abcd", "user u with the API key ...abcd"
  std::string_view api_key;    // redacted from the service's message
  std::string_view rate_code;  // the backend code of a 429 without one
};

// ": <message>" with the key redacted, or "" when the service said nothing.
std::string said_detail(std::string_view message, std::string_view api_key);

// `code` and `message` as read from the answer's body (one line).
outcome api_key_error_outcome(const http_response& answer, std::string_view what,
                              const std::string& code, std::string_view message,
                              const api_key_service& service,
                              std::chrono::system_clock::time_point now);

}  // namespace cbcs::protocol::ca
