#pragma once
// The Date header every answer of a simulator carries, as a real service's
// does (RFC 9110 §6.6.1: an origin server with a clock MUST send it), so that
// cbcs doctor can tell how far a peer's clock is from ours.

#include <string>

namespace cbcs::sim {

// Now in IMF-fixdate ("Mon, 07 Dec 2026 16:40:00 GMT"), shifted by
// CBCS_SIM_CLOCK_OFFSET seconds when that is set (a test's skewed peer).
std::string http_date_now();

}  // namespace cbcs::sim
