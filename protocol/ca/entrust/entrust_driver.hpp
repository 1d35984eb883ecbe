#pragma once
// Entrust driver, two dialects chosen by -api:
//   ecs   ECS API v2, Basic username:apikey (entrust_api.hpp): enroll and
//         renew order_session.hpp, revoke revoke_session.hpp, test and
//         inventory account_report.hpp;
//   cagw  the CA Gateway, mutual TLS only (ca_gateway_api.hpp):
//         gateway_sessions.hpp.
// A bad setting does not throw: every job of the backend fails with
// invalid_request naming it.

#include <memory>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<driver> make_driver(const driver_config& config);

}  // namespace cbcs::protocol::ca::entrust
