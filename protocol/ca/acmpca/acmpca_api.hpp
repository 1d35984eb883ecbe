#pragma once
// AWS Private CA's wire: awsJson 1.1 (every call POST / with X-Amz-Target
// ACMPrivateCA.<Op>) signed with SigV4 for the service "acm-pca"; the call
// bodies the sessions send, the reading of the answers, and AWS's errors.
// Pure functions, public for the tests and the fuzz target; the sessions
// (issue_session.hpp, ...) put them in order. A reader throws
// std::runtime_error with a one-line reason when an answer cannot be read.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sigv4.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::acmpca {

// --- Endpoint and signing

// The base URL: the endpoint setting, else https://acm-pca[-fips].REGION.amazonaws.com
// (".com.cn" for China regions).
std::string endpoint_url(const driver_config& config);

// Where the calls go and what their signature covers.
struct endpoint {
  std::string url;   // ends with '/'
  std::string host;  // the Host header: authority without a default port
  std::string path;  // the URL's path, "/" normally
  std::string region;
};
// `url` split into host and path; "" or what is wrong with it ("endpoint is
// not a URL").
std::string split_endpoint(const std::string& url, endpoint& out);

// One call: the operation ("IssueCertificate"), its JSON body and the
// rate-limit bucket it draws from.
struct call {
  std::string op;
  std::string body;
  std::string rate_class;
};

// The call as it goes on the wire, signed with `keys` at `now`.
http_request signed_request(const call& c, const endpoint& e,
                            const crypto::sigv4::credentials& keys,
                            std::chrono::system_clock::time_point now);

// AWS's form of an access key id: 16 to 128 of A-Z and 0-9 (AKIA..., ASIA...).
bool is_access_key_id(std::string_view v);

// --- The calls

call describe_call(std::string_view ca_arn);

struct issue_request {
  std::string ca_arn;
  std::string csr_pem;
  std::string signing_algorithm;
  std::int64_t validity_seconds = 0;  // 0: 30 days; else whole days, rounded up
  std::string template_arn;           // "" for AWS's default template
  std::string job_id;                 // the IdempotencyToken derives from it
};
call issue_call(const issue_request& r);

call get_certificate_call(std::string_view ca_arn, std::string_view certificate_arn);
call revoke_call(std::string_view ca_arn, std::string_view serial, std::string_view reason);
call list_call(std::string_view next_token);
call ca_certificate_call(std::string_view ca_arn);

// Hex of SHA-256(job id) cut to 32 characters (AWS allows 1 to 36).
std::string idempotency_token(std::string_view job_id);

// The SigningAlgorithm values IssueCertificate takes.
inline constexpr std::array<std::string_view, 10> signing_algorithms = {
    "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA", "SHA256WITHRSA", "SHA384WITHRSA",
    "SHA512WITHRSA",   "SM3WITHSM2",      "ML_DSA_44",       "ML_DSA_65",     "ML_DSA_87"};

// How soon a call AWS is still working on goes again (RequestInProgressException):
// botocore's waiters poll every second.
inline constexpr std::chrono::milliseconds poll_interval{1000};

// The CA's KeyAlgorithm ("EC_prime256v1", "RSA_2048", ...) -> the
// SigningAlgorithm IssueCertificate needs; "" when unknown.
std::string signing_algorithm_for(std::string_view key_algorithm);

// RFC 5280 codes to AWS's RevocationReason; AWS has no hold (6, 8).
inline constexpr std::array<reason_word, 8> revocation_reasons{{
    {0, "UNSPECIFIED"},
    {1, "KEY_COMPROMISE"},
    {2, "CERTIFICATE_AUTHORITY_COMPROMISE"},
    {3, "AFFILIATION_CHANGED"},
    {4, "SUPERSEDED"},
    {5, "CESSATION_OF_OPERATION"},
    {9, "PRIVILEGE_WITHDRAWN"},
    {10, "A_A_COMPROMISE"},
}};

// RFC 5280 reason name ("keyCompromise") -> AWS RevocationReason
// ("KEY_COMPROMISE"); "" maps to UNSPECIFIED. nullopt for certificateHold,
// removeFromCRL (AWS has no hold) and unknown names.
std::optional<std::string> revocation_reason(std::string_view rfc5280_name);

// A serial in any common hex form ("0a1b", "0A:1B", "00:a1:b2") -> the form of
// AWS's documentation: upper-case byte pairs joined by ':' without a leading
// zero byte ("0A:1B"). nullopt when it is not hex.
std::optional<std::string> aws_serial(std::string_view serial_hex);

// --- The answers (2xx; an empty body reads as {})

// DescribeCertificateAuthority.
struct authority {
  std::string type;
  std::string status;
  std::string key_algorithm;
  std::string signing_algorithm;
  std::string subject;  // from its configuration, RFC 2253 order
  std::optional<std::int64_t> not_after;
};
authority parse_authority(std::string_view body);

// IssueCertificate: the new certificate's ARN.
std::string parse_certificate_arn(std::string_view body);

// GetCertificate.
struct certificate_answer {
  std::string certificate;
  std::string chain;
};
certificate_answer parse_certificate(std::string_view body);

// RevokeCertificate: nothing to read but that it is JSON.
void check_revoke_answer(std::string_view body);

// ListCertificateAuthorities, one page.
struct authority_page {
  std::vector<std::string> arns;
  std::string next_token;  // "" on the last page
};
authority_page parse_authority_page(std::string_view body);

// GetCertificateAuthorityCertificate: the CA's certificate, "" when absent.
std::string parse_ca_certificate(std::string_view body);

// --- Errors

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
