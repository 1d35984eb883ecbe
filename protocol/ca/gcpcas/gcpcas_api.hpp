#pragma once
// Google Cloud CA Service (privateca v1, REST/JSON), the wire: the ids derived
// from a job, resource names and URLs, request bodies, the reading of answers
// and of errors. Pure functions, public for the tests and the fuzz target; the
// sessions (issue_session.hpp, revoke_session.hpp, pool_report.hpp) put them
// in order. Every call carries the service account's bearer token.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/serial_number.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::gcpcas {

inline constexpr std::string_view default_endpoint = "https://privateca.googleapis.com";

// --- Ids derived from the job: a retry, a crash or a reconnect creates nothing new.

// The job id when it is 1 to 63 of [a-zA-Z0-9_-]; otherwise its allowed
// characters ('-' for the others) cut to 46, '-' and 16 hex digits of
// SHA-256(job id): stable, and two job ids never share one.
std::string certificate_id(std::string_view job_id);

// RFC 9562 UUID version 5 (SHA-1) of `name` in `namespace_uuid` (text form).
std::string uuid_v5(std::string_view namespace_uuid, std::string_view name);
// The requestId of a job: uuid_v5(request_namespace, job id).
inline constexpr std::string_view request_namespace = "664cf0e0-4167-5e6b-abde-32af0d5d5a55";
std::string request_id(std::string_view job_id);

// A label value Google accepts (lower-case letters, digits, '_', '-', at most
// 63): the job id lower-cased, others as '_'; cut with a hash like certificate_id.
std::string label_value(std::string_view job_id);

// --- Names and calls.

// 1 to 63 of [a-zA-Z0-9_-]: a pool's or a certificate's id.
bool is_resource_id(std::string_view id);
// projects/P/locations/L, and a pool's name in it.
std::string location_path(std::string_view project, std::string_view location);
std::string pool_path(std::string_view location_path, std::string_view pool_id);
// What follows the last '/'.
std::string last_segment(std::string_view name);
// projects/P/locations/L/caPools/POOL/certificates/ID with the pool and id
// of Google's characters: a name from an answer or a job goes into a URL.
bool is_certificate_name(std::string_view location_path, std::string_view name);

// A call before it gets the bearer token; `base` is the endpoint without a trailing '/'.
struct api_call {
  std::string method;
  std::string url;
  std::string body;
  std::string rate_class;
};
http_request authorized(const api_call& call, std::string_view token);

api_call list_pools(std::string_view base, std::string_view location_path,
                    std::string_view page_token);
api_call get_pool(std::string_view base, std::string_view pool_path);
// POST {pool}/certificates?certificateId=C&requestId=R[&issuingCertificateAuthorityId=CA]
// {pemCsr, lifetime (the job's validity, else 30 days), certificateTemplate?, labels{cbcs-job}}.
api_call create_certificate(std::string_view base, std::string_view pool_path, const job& j,
                            std::string_view template_name, std::string_view ca_id);
api_call get_certificate(std::string_view base, std::string_view pool_path,
                         std::string_view job_id);
// GET {pool}/certificates?filter=<hexSerialNumber is the serial>.
api_call find_by_serial(std::string_view base, std::string_view pool_path,
                        const crypto::serial_number& serial);
api_call revoke_certificate(std::string_view base, std::string_view certificate_name,
                            std::string_view reason, std::string_view job_id);
api_call list_cas(std::string_view base, std::string_view pool_name);
// testIamPermissions with every permission the connector needs.
api_call test_permissions(std::string_view base, std::string_view pool_path);

// --- Answers. Each reader throws answer_error naming what is wrong (never a
// value); an empty body reads as {}.

class answer_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A page of caPools.list; every pool is one of `location_path`.
struct pool_info {
  std::string id;
  std::string name;
  std::string tier;
};
struct pool_page {
  std::vector<pool_info> pools;
  std::string next_page_token;
};
pool_page read_pools(std::string_view body, std::string_view location_path);

// The tier of caPools.get.
std::string read_pool_tier(std::string_view body);

// A Certificate: its PEM and chain, each ending in a newline.
struct certificate_answer {
  std::string pem;
  bool revoked = false;  // revocationDetails is there
  std::string chain;
  // Why pemCertificateChain cannot be read, or "": told after the key is checked.
  std::string chain_error;
};
certificate_answer read_certificate(std::string_view body);

// The certificates' names of certificates.list.
std::vector<std::string> read_certificate_names(std::string_view body);

// The answer to revoke (a Certificate, not read further).
void read_revoked(std::string_view body);

struct ca_info {
  std::string name;
  std::string state;
  std::string tier;
};
std::vector<ca_info> read_cas(std::string_view body);

// The permissions `backend test` checks on the pool.
const std::vector<std::string>& required_permissions();
// Those of required_permissions() a testIamPermissions answer does not hold.
std::vector<std::string> missing_permissions(std::string_view body);

// --- Errors.

// {"error":{"code","message","status"}}; empty fields when unreadable.
// Status is an identifier ("" otherwise), message one line; code is Google's
// number for the HTTP status (0 when not a number).
struct google_error {
  int code = 0;
  std::string status;
  std::string message;
};
google_error parse_error(std::string_view body);

// The permission a PERMISSION_DENIED message names ("privateca.certificates.create"), or "".
std::string permission_in(std::string_view message);

// The failed outcome for an error answer to `what` ("create the certificate").
outcome classify_error(const http_response& response, std::string_view what,
                       std::chrono::system_clock::time_point now);

// --- The job's words.

// RFC 5280 reason name -> CA Service's RevocationReason; error text for
// removeFromCRL and unknown names.
struct mapped_reason_word {
  std::string word;
  std::string error;
};
mapped_reason_word revocation_reason(std::string_view rfc5280_name);

// A job's profile: "template:NAME", "pool:NAME", or both joined by ','; a bare word is a template.
struct profile_choice {
  std::string pool;
  std::string template_name;
  std::string error;
};
profile_choice parse_profile(std::string_view profile);

}  // namespace cbcs::protocol::ca::gcpcas
