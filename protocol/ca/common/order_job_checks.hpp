#pragma once
// What every ordering driver checks of an enroll or renew job before its
// first request: a CSR that reads, the names it asks for, a validity of 0
// (the CA's default) to 100 years (longer is a mistake, and its days would
// overflow).

#include <optional>

#include "crypto/subject_names.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

// The failure (invalid_request) naming the problem, or nullopt with `names`
// read from the CSR.
std::optional<outcome> check_order_job(const job& j, crypto::requested_names& names);

// A renew job: the certificate being renewed must be there and read; its
// serial (cbcs's lower-case hex) in `serial_hex`, or the failure.
std::optional<outcome> check_renewal_job(const job& j, std::string& serial_hex);

}  // namespace cbcs::protocol::ca
