#pragma once
// The Entrust CA Gateway REST API (PKIaaS and on-premises CAs), the wire:
// requests and the reading of answers, pure, public for the tests and the
// fuzz target. Mutual TLS only: no HTTP credentials (cagw-vault-plugin's
// op_sign.go posts with the client certificate alone). Shapes from
// ca-apis.md §3 and EntrustCorporation/cagw-vault-plugin
// (enrollment_request.go, enrollment_response.go, error_response.go).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::entrust {

http_request gateway_request(std::string method, std::string url, std::string body = {});

// {"type": "ErrorResponse", "error": {code, message, target, details}}.
struct gateway_error {
  std::string code;  // "TooManyRequests", "NotFound", ...
  std::string message;
};
gateway_error parse_gateway_error(std::string_view body);

// The failed outcome of an error answer to `what`: 401/403 name the client
// certificate, 429 or the code TooManyRequests retry (Retry-After
// honoured), 5xx retry, other 4xx are final.
outcome gateway_error_outcome(const http_response& answer, std::string_view what,
                              std::chrono::system_clock::time_point now);

struct enrollment_request {
  std::string profile_id;
  std::string csr_pem;
  std::vector<std::string> dns_names;
  std::int64_t validity_seconds = 0;  // 0: the profile's
  std::string tag;                    // job_tag(job id), in properties
};
// POST /v1/certificate-authorities/{caId}/enrollments. PKIaaS takes only the
// key from the CSR: the names go in subjectAltNames.
std::string enrollment_body(const enrollment_request& r);

// enrollment{id, serialNumber, status, body}: body PEM (format PEM) or
// base64 DER (format X509), made PEM here.
struct enrollment_info {
  std::string id;
  std::string serial_number;
  std::string status;
  std::string certificate_pem;
};
// Throws std::runtime_error with a one-line reason when unreadable.
enrollment_info parse_enrollment(std::string_view body);

// GET .../certificates/{serial}: {certificate{serialNumber, status,
// certificateData}} (or the fields at the top). The certificate is base64
// DER in certificateData: Entrust's ansible cagw_certificate reads a 'get'
// from certificateData and a 'new' from body; Keyfactor's
// entrust-cagateway-cagateway (Api/Certificate.cs, its CertificateResponse
// test resource) the same. `body` is read too when certificateData is absent.
struct gateway_certificate {
  std::string serial_number;
  // Lower case. "normal", "held", "revoked", and "expired" or "suspended"
  // (cagw_certificate's RETURN: "Possible values are: ACCEPTED, normal,
  // Revoked, Held"; its check() also tests EXPIRED/expired and
  // SUSPENDED/suspended). "" when the answer has none: "ECS CA
  // getCertificate api through CAGW doesn't return status of the
  // certificate" (cagw_certificate.py check()).
  std::string status;
  std::string certificate_pem;
};
gateway_certificate parse_gateway_certificate(std::string_view body);

// A status (lower case) under which the certificate is of no use:
// revoked, held, expired, suspended (the ones cagw_certificate's check()
// refuses).
bool gateway_status_unusable(std::string_view status);

// POST .../certificates/{serial}/actions {"action": {type: "RevokeAction",
// reason, comment}}: wrapped in "action" as every public client sends it
// (cagw_certificate.py update_action: body['action'] = action;
// pki-utilities bulk-revoke-shell/script.sh and cagw-shell-util/main.sh
// --data "{\"action\":{\"type\":\"RevokeAction\",...}}"; Keyfactor's
// RevokeRequest [JsonProperty("action")]).
std::string revoke_action_body(std::string_view reason, std::string_view comment);

// The answer to an action, {type: "ActionResponse", action{type, status}}:
// the action's status, upper case: ACCEPTED, COMPLETED or REJECTED
// (Keyfactor's Api/Action.cs ActionStatus; its Revoke() fails on REJECTED
// although the HTTP answer succeeded). "" when the answer names none.
std::string parse_action_status(std::string_view body);

// GET /v1/certificate-authorities {caList[{id, name}]} and
// GET .../{caId}/profiles {profiles[{id, name}]}.
struct named_item {
  std::string id;
  std::string name;
};
std::vector<named_item> parse_authorities(std::string_view body);
std::vector<named_item> parse_profiles(std::string_view body);

// A serial in any hex form -> the gateway's path segment as Entrust's own
// ansible cagw_certificate computes it from a certificate:
// "{0:X}".format(cert.serial_number), upper-case hex without leading zeros.
// The gateway writes serialNumber in lower case ("5b9ba13d" in that
// module's examples, "5912bd91" in Keyfactor's test resource) and Entrust's
// shell utility asks for "0000000091ca4b4b136a86b718ae01a5403ce62b": the
// segment is read as a number, case and leading zeros aside. nullopt when it
// is not hex.
std::optional<std::string> gateway_serial(std::string_view serial_hex);

}  // namespace cbcs::protocol::ca::entrust
