#pragma once
// Google Cloud CA Service driver (privateca v1, REST/JSON), authenticated
// with an OAuth access token from the service-account key, one per backend
// shared by its sessions (service_account_token.hpp): enroll and renew
// issue_session.hpp, revoke revoke_session.hpp, inventory and test
// pool_report.hpp; the wire in gcpcas_api.hpp.
//
// A job's profile: "template:NAME" (a certificate template, short or full
// name), "pool:NAME", or both joined by ','; a bare word is a template.
// Settings: project, location, pool, ca, template, tier (enterprise|devops),
// endpoint (base URL, default https://privateca.googleapis.com). Secret: key
// (the service-account key file's JSON). A bad setting does not throw: every
// job of the backend fails with invalid_request naming it.

#include <memory>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::gcpcas {

std::unique_ptr<driver> make_driver(const driver_config& config);

}  // namespace cbcs::protocol::ca::gcpcas
