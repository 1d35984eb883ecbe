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

// GET .../certificates/{serial}: {certificate{serialNumber, status, body?}}
// (or the fields at the top).
struct gateway_certificate {
  std::string serial_number;
  std::string status;  // lower case: "normal", "held", "revoked", ...
  std::string certificate_pem;
};
gateway_certificate parse_gateway_certificate(std::string_view body);

// POST .../certificates/{serial}/actions.
std::string revoke_action_body(std::string_view reason, std::string_view comment);

// GET /v1/certificate-authorities {caList[{id, name}]} and
// GET .../{caId}/profiles {profiles[{id, name}]}.
struct named_item {
  std::string id;
  std::string name;
};
std::vector<named_item> parse_authorities(std::string_view body);
std::vector<named_item> parse_profiles(std::string_view body);

// A serial in any hex form -> the gateway's path segment: lower-case hex,
// two digits a byte. An assumption to check against a live gateway: the
// public clients only reuse the serialNumber an enrollment answered with
// (a poll does the same). nullopt when it is not hex.
std::optional<std::string> gateway_serial(std::string_view serial_hex);

}  // namespace cbcs::protocol::ca::entrust
