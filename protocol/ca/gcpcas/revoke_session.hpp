#pragma once
// revoke at CA Service:
//
//   [GET caPools: the location's only pool, when neither job nor backend names one]
//   [GET {pool}: its tier, when -tier is not set; DevOps pools keep no
//    certificates, so cannot revoke]
//   -> the certificate's name from the job's params certificate_id or
//      certificate_name, else GET {pool}/certificates?filter=<serial>
//   -> POST {name}:revoke {reason, requestId}; already revoked is done.

#include <memory>

#include "protocol/ca/gcpcas/gcpcas_backend.hpp"

namespace cbcs::protocol::ca::gcpcas {

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j);

}  // namespace cbcs::protocol::ca::gcpcas
