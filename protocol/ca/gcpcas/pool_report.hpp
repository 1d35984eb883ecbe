#pragma once
// inventory and `backend test` at CA Service: GET caPools, then each pool's
// certificateAuthorities (a pool that may not be read is named with why, the
// others are still listed); test also POSTs {pool}:testIamPermissions with
// every permission the connector needs, on the backend's pool or on each
// listed one, and the missing ones fail it (auth). A JSON report.

#include <memory>

#include "protocol/ca/gcpcas/gcpcas_backend.hpp"

namespace cbcs::protocol::ca::gcpcas {

std::unique_ptr<job_session> start_pool_report(std::shared_ptr<backend_state> backend,
                                               const job& j);

}  // namespace cbcs::protocol::ca::gcpcas
