#pragma once
// What a job must be before anything of it is journaled: the journal holds
// only validated inputs and never a secret (design §5). Pure: the router asks
// it for every job, from SCM and from the CLI alike.

#include <cstddef>
#include <optional>
#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

// Why the job is refused, in one line that repeats none of its content, or
// nullopt when it may be journaled. A field holding private-key material is
// named; so is a CSR or certificate that does not parse.
std::optional<std::string> refuse_job_inputs(const job& j);

// Whether two jobs with one id ask for the same thing (SCM resending it, a
// CLI command run again): the same operation on the same backend for the
// same CSR, certificate or serial. A second request with that id must match.
bool same_request(const job& a, const job& b);
// A digest of what same_request compares, for a running job's record
// (the router keeps little per job: 100,000 may be in flight).
std::size_t request_digest(const job& j);

}  // namespace cbcs::protocol::ca
