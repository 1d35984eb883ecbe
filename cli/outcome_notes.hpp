#pragma once
// What a CA did that the operator did not ask for, said after the result:
// a certificate shorter than -validity (a CA's maximum, such as public TLS's
// 199 days at DigiCert since February 2026), a renewal that kept the old
// expiry (a reissue).

#include <string>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::cli {

// renewal_option: the backend's type has -renewal renew|reissue, named as
// the way to a new validity.
std::vector<std::string> outcome_notes(const protocol::ca::job& job,
                                       const protocol::ca::outcome& issued, bool renewal_option);

}  // namespace cbcs::cli
