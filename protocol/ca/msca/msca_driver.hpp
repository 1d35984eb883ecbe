#pragma once
// The AD CS driver over the enrollment web services (CES and CEP): requests
// on behalf of SCM's subjects signed by the enrollment agent; the sessions
// in msca_sessions.hpp, the wire in ces_api.hpp.

#include <memory>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::msca {

std::unique_ptr<driver> make_driver(const driver_config& config);

}  // namespace cbcs::protocol::ca::msca
