#pragma once
// enroll and renew at ECS, on the shared ordering flow (ordering_session.hpp):
//
//   prelude:  the client (GET /clients, learnt once per backend): -clientid
//             or the only approved one, else rejected naming them;
//             renew: the certificate being renewed (GET /certificates?
//             serialNumber=), its trackingId; -renewal renew within 30 days
//             of its issuance is refused here, naming -renewal reissue
//   search:   GET /certificates pages (limit, offset: what Keyfactor's
//             GetCertificatesRequest sends), those young enough and for the
//             CSR's common name read one by one (GET /certificates/{id}) for
//             the job's tag in tracking.trackingInfo and the job's CSR;
//             renew: then the certificate being renewed, which must not be
//             renewed or reissued already
//   place:    POST /certificates, or /certificates/{id}/renewals | /reissues
//   poll:     GET /certificates/{trackingId}
// 201 is issued (the leaf is the certificate with the CSR's key among
// endEntityCert and chainCerts), 202 queued for approval (trackingId only).

#include <memory>

#include "protocol/ca/entrust/entrust_backend.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<job_session> start_order(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token);

}  // namespace cbcs::protocol::ca::entrust
