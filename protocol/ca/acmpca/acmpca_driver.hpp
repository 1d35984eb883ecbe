#pragma once
// AWS Private CA driver: enroll and renew issue_session.hpp, revoke
// revoke_session.hpp, inventory and test inventory_report.hpp; the keys
// around every call signed_session.hpp; the wire acmpca_api.hpp.
//
// Every call is safe to repeat (IssueCertificate carries the job's
// IdempotencyToken): after the first call, next(nullptr, ...) sends the last
// one again, freshly signed (http_session.hpp).
//
// Settings: accesskeyid, region, endpoint, fips ("true"), ca_arn (default CA),
// credentials ("static", the default, or "instance": the EC2 instance role's
// keys from instance metadata, see instance_role.hpp), imds_endpoint.
// Secrets: secretaccesskey, sessiontoken. A bad setting does not throw:
// every job of the backend fails with invalid_request naming it.

#include <memory>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::acmpca {

std::unique_ptr<driver> make_driver(const driver_config& config);

}  // namespace cbcs::protocol::ca::acmpca
