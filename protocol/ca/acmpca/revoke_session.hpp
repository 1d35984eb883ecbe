#pragma once
// revoke at AWS Private CA: RevokeCertificate with the serial in AWS's form
// and the reason as AWS names it; a JSON report.
// RequestAlreadyProcessedException counts as done (already revoked);
// RequestInProgressException -> pending, and the call goes again.

#include <memory>

#include "protocol/ca/acmpca/acmpca_backend.hpp"

namespace cbcs::protocol::ca::acmpca {

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j);

}  // namespace cbcs::protocol::ca::acmpca
