#pragma once
// DigiCert CertCentral driver (Services API v2, key in X-DC-DEVKEY):
// enroll and renew are orders (order_session.hpp), revoke and cancel
// revoke_session.hpp, test and inventory account_report.hpp; the wire in
// digicert_api.hpp.
//
// Settings: apikey (secret), region (us|eu), endpoint, orgid, product,
// skipapproval, autoapprove, renewal (reissue|renew), revoke
// (certificate|order), poll, maxpending. A bad setting does not throw:
// every job of the backend fails with invalid_request naming it.

#include <memory>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::digicert {

std::unique_ptr<driver> make_driver(const driver_config& config);

}  // namespace cbcs::protocol::ca::digicert
