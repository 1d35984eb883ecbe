#pragma once
// The HTTP side of CES and CEP for the msca driver: requests as SOAP 1.2
// envelopes (wstep.hpp, xcep.hpp for the bodies), with the UsernameToken
// for -auth username, and their answers read into what the sessions decide
// on. No state; the sessions (msca_sessions.hpp) hold it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/msca/msca_backend.hpp"
#include "protocol/ca/msca/xcep.hpp"

namespace cbcs::protocol::ca::msca {

// RequestType Issue: the request (a CMS on behalf, or the agent's own
// PKCS#10) for a template. A placement: the CA has no idempotency key.
http_request ces_issue(const msca_settings& s, crypto::byte_view request,
                       std::string_view value_type, std::string_view template_name);
// RequestType QueryTokenStatus for a request the CA holds.
http_request ces_query(const msca_settings& s, std::string_view request_id);
// CEP's GetPolicies: the templates and the CAs with their CES endpoints.
http_request cep_get_policies(const msca_settings& s);

// What CES answered.
struct ces_answer {
  enum class kind : std::uint8_t { issued, pending, refused, failed };
  kind what = kind::failed;
  std::string request_id;  // RequestID, when the answer names one
  std::string disposition;  // "Issued", "Taken Under Submission", ...
  std::string certificate_pem;
  std::string chain_pem;  // from the CMC response: the issuers, leaf excluded
  std::string serial_hex;
  // refused (a fault with CertificateEnrollmentWSDetail) and failed
  std::uint32_t hresult = 0;
  outcome failure;  // refused or failed: what the job reports
};

// The answer to ces_issue or ces_query.
ces_answer read_ces_answer(const http_response& answer, const msca_settings& s);

// CEP's answer, or the job's failure.
struct cep_answer {
  std::optional<xcep::policies> policies;
  outcome failure;
};
cep_answer read_cep_answer(const http_response& answer, const msca_settings& s);

}  // namespace cbcs::protocol::ca::msca
