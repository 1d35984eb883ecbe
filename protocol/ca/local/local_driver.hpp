#pragma once
// The built-in local CA as a driver: it answers every job at once, without
// HTTP. Its key comes unsealed in the driver config; its ledger and CRL live
// in <data dir>/local-ca/<backend name>/.

#include <memory>

#include "protocol/ca/backend_type.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::local {

std::unique_ptr<driver> make_driver(const driver_config& config);

// The generated options: ca_key (sealed) and ca_cert, from key-algorithm and ca-name.
option_values provision(const option_values& given);

}  // namespace cbcs::protocol::ca::local
