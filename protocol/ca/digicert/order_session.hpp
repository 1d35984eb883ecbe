#pragma once
// enroll and renew at CertCentral, on the shared ordering flow
// (ordering_session.hpp):
//
//   prelude:  the organization (GET /organization, shared by the backend's
//             sessions): active and validated for the product, else rejected;
//             renew: the order of the certificate being renewed
//             (GET /order/certificate/{serial})
//   search:   enroll, renew by a new order: the orders for the common name,
//             newest first, those young enough to be ours read one by one for
//             the job's tag in their comments or the job's CSR;
//             reissue: the order itself, which is ours when its CSR is the job's
//   place:    POST /order/certificate/{product} (renewal_of_order_id when
//             renewing) or POST /order/certificate/{order}/reissue
//   poll:     GET /order/certificate/{order}; with -autoapprove, a pending
//             request is approved first (PUT /request/{id}/status)
//   collect:  GET /certificate/{id}/download/format/pem_all; the leaf is the
//             certificate with the CSR's key

#include <memory>

#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/digicert/digicert_backend.hpp"

namespace cbcs::protocol::ca::digicert {

std::unique_ptr<job_session> start_order(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token);

}  // namespace cbcs::protocol::ca::digicert
