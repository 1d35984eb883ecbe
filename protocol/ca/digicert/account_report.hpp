#pragma once
// `backend test` and inventory at CertCentral: the organizations with their
// validations and whether the backend may order with one, and the API key's
// user with the permissions its roles grant against those the connector
// needs. GET /organization, then GET /user/me; a JSON report.

#include <memory>

#include "protocol/ca/digicert/digicert_backend.hpp"

namespace cbcs::protocol::ca::digicert {

std::unique_ptr<job_session> start_account_report(std::shared_ptr<backend_state> backend,
                                                  const job& j);

}  // namespace cbcs::protocol::ca::digicert
