#pragma once
// enroll and renew at CA Service:
//
//   [GET caPools: the location's only pool, when neither job nor backend names one]
//   -> POST {pool}/certificates?certificateId=C&requestId=R
//      {pemCsr, lifetime, certificateTemplate?, labels{cbcs-job}}
//      C is derived from the job id, R is UUIDv5 of it: a retry, a crash or a
//      reconnect creates nothing new.
//   ALREADY_EXISTS -> GET {pool}/certificates/C, returned when it certifies
//      the CSR's key and is neither revoked nor expired.

#include <memory>

#include "protocol/ca/gcpcas/gcpcas_backend.hpp"

namespace cbcs::protocol::ca::gcpcas {

std::unique_ptr<job_session> start_issue(std::shared_ptr<backend_state> backend, const job& j);

}  // namespace cbcs::protocol::ca::gcpcas
