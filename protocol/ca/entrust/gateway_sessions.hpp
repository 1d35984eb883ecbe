#pragma once
// The CA Gateway's sessions (ca_gateway_api.hpp for the wire):
//
//   order   enroll and renew (a new enrollment for the job's CSR): POST
//           /v1/certificate-authorities/{caId}/enrollments, the certificate
//           in enrollment.body; without it, GET .../certificates/{serial}
//           is polled. The gateway has no idempotency key and no search by
//           a tag: a placement whose answer was lost is never sent again
//           blind (lost_placement::ask_operator, ordering_session.hpp): the
//           job fails naming where to look.
//   revoke  GET .../certificates/{serial} (revoked already: done), then
//           POST .../certificates/{serial}/actions {type RevokeAction,
//           reason, comment}; its answer lost: looked up again first.
//   report  GET /v1/certificate-authorities (-caid among them), then
//           GET .../{caId}/profiles (-profile among them).

#include <memory>

#include "protocol/ca/entrust/entrust_backend.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<job_session> start_gateway_order(std::shared_ptr<backend_state> backend,
                                                 const job& j, const std::string& resume_token);
std::unique_ptr<job_session> start_gateway_revoke(std::shared_ptr<backend_state> backend,
                                                  const job& j);
std::unique_ptr<job_session> start_gateway_report(std::shared_ptr<backend_state> backend);

}  // namespace cbcs::protocol::ca::entrust
