#pragma once
// AWS Private CA driver: awsJson 1.1 (every call POST /, X-Amz-Target
// ACMPrivateCA.<Op>) signed with SigV4 for the service "acm-pca".
//
// enroll, renew:  [DescribeCertificateAuthority] -> IssueCertificate -> GetCertificate
//                 Describe picks SigningAlgorithm from the CA's KeyAlgorithm and is
//                 skipped when the job gives params["signing_algorithm"].
//                 After IssueCertificate the certificate ARN is the session's
//                 resume_token(); a session started with that token goes straight to
//                 GetCertificate, so a restart never issues twice, even after AWS's
//                 five-minute IdempotencyToken window.
//                 RequestInProgressException -> outcome::pending (poll after 1 s).
// revoke:         RevokeCertificate; RequestAlreadyProcessedException counts as done;
//                 RequestInProgressException -> pending.
// inventory, test: ListCertificateAuthorities over every page, then for each CA
//                 DescribeCertificateAuthority and, when it has a certificate,
//                 GetCertificateAuthorityCertificate; a JSON report.
//
// Calls without a response: after the first call, next(nullptr, ...) means
// "the last request got no answer to read" (a pending poll, a retry after a
// retryable failure or a network error, a rate-limit wait before sending):
// the session sends its last request again, freshly signed. Every call here is
// safe to repeat. A pending or retryable failed outcome leaves the session
// open for that; after issued, done or a final failure it is closed.
//
// Settings: accesskeyid, region, endpoint, fips ("true"), ca_arn (default CA),
// credentials ("static", the default, or "instance": the EC2 instance role's
// keys from instance metadata, see instance_role.hpp), imds_endpoint.
// Secrets: secretaccesskey, sessiontoken. A missing setting does not throw:
// every job of the backend fails with invalid_request naming it.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::acmpca {

std::unique_ptr<driver> make_driver(const driver_config& config);

// --- Building blocks, public for tests.

// Hex of SHA-256(job id) cut to 32 characters (AWS allows 1 to 36).
std::string idempotency_token(std::string_view job_id);

// RFC 5280 reason name ("keyCompromise") -> AWS RevocationReason
// ("KEY_COMPROMISE"); "" maps to UNSPECIFIED. nullopt for certificateHold,
// removeFromCRL (AWS has no hold) and unknown names.
std::optional<std::string> revocation_reason(std::string_view rfc5280_name);

// The CA's KeyAlgorithm ("EC_prime256v1", "RSA_2048", ...) -> the
// SigningAlgorithm IssueCertificate needs; "" when unknown.
std::string signing_algorithm_for(std::string_view key_algorithm);

// A serial in any common hex form ("0a1b", "0A:1B", "00:a1:b2") -> the form of
// AWS's documentation: upper-case byte pairs joined by ':' without a leading
// zero byte ("0A:1B"). nullopt when it is not hex.
std::optional<std::string> aws_serial(std::string_view serial_hex);

// AWS's form of an access key id: 16 to 128 of A-Z and 0-9 (AKIA..., ASIA...).
bool is_access_key_id(std::string_view v);

// The base URL: the endpoint setting, else https://acm-pca[-fips].REGION.amazonaws.com
// (".com.cn" for China regions).
std::string endpoint_url(const driver_config& config);

// An AWS error answer: the code (prefix up to '#' and suffix from ':'
// removed; from __type, code, the x-amzn-ErrorType header or an XML <Code>)
// and the message ("message" or "Message"). Both empty when unreadable.
// Both are safe to log whatever the body held: the code is an identifier
// ([A-Za-z0-9_.-], at most 128 characters; "" otherwise), the message one line
// of valid UTF-8 cut on a character boundary.
struct aws_error {
  std::string code;
  std::string message;
};
aws_error parse_error(const http_response& response);

// The failed outcome for a non-2xx answer to `operation` (e.g. "IssueCertificate").
// Retry-After (delta-seconds) is honoured up to one hour.
outcome classify_error(const http_response& response, std::string_view operation);

}  // namespace cbcs::protocol::ca::acmpca
