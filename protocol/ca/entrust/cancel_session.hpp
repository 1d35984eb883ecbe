#pragma once
// cancel of a job whose ECS order waits for an approver (SCM cancels it):
//
//   PATCH /certificates/{trackingId} {operation: DECLINE, declineReason}
//       -> 2xx: done (the order is DECLINED at Entrust)
//       -> refused (4xx): GET /certificates/{trackingId}; DECLINED already
//          (an earlier cancel whose answer was lost): done; else the refusal,
//          with the order's status
//
// Entrust's public clients document it: Keyfactor's entrust-ecs-caplugin
// (API/Certificate.cs) "PatchCertificateRequest: Resource =
// certificates/{trackingId}, Method = PATCH", body "operation",
// "declineReason", operations "APPROVE, DECLINE, SUSPEND, UNSUSPEND"
// (Models/CertificateOperation.cs); ca-apis.md §3: "approve/decline only
// while PENDING". The API user must be allowed to approve at Entrust.
// The CA Gateway answers enrollments at once: it holds nothing to cancel.

#include <memory>

#include "protocol/ca/entrust/entrust_backend.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<job_session> start_cancel(std::shared_ptr<backend_state> backend,
                                          const std::string& resume_token,
                                          const std::string& reason);

}  // namespace cbcs::protocol::ca::entrust
