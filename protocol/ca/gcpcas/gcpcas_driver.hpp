#pragma once
// Google Cloud CA Service driver (privateca v1, REST/JSON), authenticated
// with an OAuth access token from the service-account key (access_token.hpp;
// one token per backend shared by its sessions: single flight).
//
// enroll, renew: [GET caPools: the location's only pool, when none is set]
//                -> POST {pool}/certificates?certificateId=C&requestId=R
//                   {pemCsr, lifetime, certificateTemplate?, labels{cbcs-job}}
//                C is derived from the job id (certificate_id), R is UUIDv5 of it
//                (request_id): a retry, a crash or a reconnect creates nothing new.
//                ALREADY_EXISTS -> GET {pool}/certificates/C, returned when it
//                certifies the CSR's key.
// revoke:        [GET {pool}: its tier, when -tier is not set; DevOps pools keep
//                no certificates, so cannot revoke] -> the certificate's name from
//                params certificate_id / certificate_name, else
//                GET {pool}/certificates?filter=<serial> (privateca.certificates.list)
//                -> POST {name}:revoke {reason, requestId}.
// inventory:     GET caPools, then each pool's certificateAuthorities.
// test:          the same, then POST {pool}:testIamPermissions with every
//                permission the connector needs; the missing ones fail it (auth).
//
// A job's profile: "template:NAME" (a certificate template, short or full
// name), "pool:NAME", or both joined by ','; a bare word is a template.
// Settings: project, location, pool, ca, template, tier (enterprise|devops),
// endpoint (base URL, default https://privateca.googleapis.com). Secret: key
// (the service-account key file's JSON).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::gcpcas {

std::unique_ptr<driver> make_driver(const driver_config& config);

// --- Building blocks, public for tests.

inline constexpr std::string_view default_endpoint = "https://privateca.googleapis.com";

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

// RFC 5280 reason name -> CA Service's RevocationReason; error text for
// removeFromCRL and unknown names.
struct mapped_reason_word {
  std::string word;
  std::string error;
};
mapped_reason_word revocation_reason(std::string_view rfc5280_name);

// The permissions `backend test` checks on the pool.
const std::vector<std::string>& required_permissions();

// {"error":{"code","message","status"}}; empty fields when unreadable.
// Status is an identifier ("" otherwise), message one line.
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

struct profile_choice {
  std::string pool;
  std::string template_name;
  std::string error;
};
profile_choice parse_profile(std::string_view profile);

}  // namespace cbcs::protocol::ca::gcpcas
