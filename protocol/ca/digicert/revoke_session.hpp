#pragma once
// revoke at CertCentral, and cancel of a job still waiting there:
//
//   revoke:  GET /order/certificate/{serial} (already revoked: done)
//            -> PUT /certificate/{id}/revoke, or /order/certificate/{order}/revoke
//               with -revoke order; the reason as CertCentral names it
//            -> 204 or an approved request: done; a pending request: approved
//               with -autoapprove (PUT /request/{id}/status), else the job is
//               pending and GET /request/{id} is polled until approved or rejected
//   cancel:  an order: PUT /order/certificate/{id}/status canceled;
//            a revocation request: PUT /request/{id}/status rejected

#include <memory>

#include "protocol/ca/digicert/digicert_backend.hpp"

namespace cbcs::protocol::ca::digicert {

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j,
                                          const std::string& resume_token);

std::unique_ptr<job_session> start_cancel(std::shared_ptr<backend_state> backend, const job& j,
                                          const std::string& resume_token,
                                          const std::string& reason);

// A revocation request's id in the job's resume token, told from an order's.
inline constexpr std::string_view request_token_prefix = "request-";

}  // namespace cbcs::protocol::ca::digicert
