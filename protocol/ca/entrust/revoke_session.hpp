#pragma once
// revoke at ECS:
//
//   the reason: keyCompromise or unspecified only (reported by Keyfactor's
//   plugin, revocation_reasons.hpp); another is refused before any request,
//   or with -revokereason map sent as unspecified with the reason in the
//   comment
//   GET /certificates?serialNumber= -> its trackingId (0: not ordered
//       through the API, refused); REVOKED already: done
//   POST /certificates/{trackingId}/revocations {crlReason, revocationComment}
//       -> 200: done; its answer lost, or refused once: looked up again

#include <memory>

#include "protocol/ca/entrust/entrust_backend.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j);

}  // namespace cbcs::protocol::ca::entrust
