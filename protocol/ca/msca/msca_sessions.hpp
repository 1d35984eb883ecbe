#pragma once
// AD CS's sessions over CES and CEP (ces_api.hpp for the wire):
//
//   request  enroll and renew: a CMS request on behalf of the job's subject,
//            signed by the agent (crypto/cms_request.hpp), for the job's
//            template (else -template), with requestername from the job's
//            `requester` param (else -requester). The agent's own request
//            (job param agent=1, from `cbcs backend msca enroll-agent-cert`)
//            is its plain PKCS#10 for the agent template. Issued: the
//            certificate and the chain of the CMC response; Taken Under
//            Submission: pending (needs_approval) with the RequestID as the
//            resume token, polled with QueryTokenStatus; a fault: the
//            HRESULT named, its class from hresult.hpp.
//            Over DCOM the same with Submit and RetrievePending; with
//            -autoapprove a pending request is first resubmitted
//            (ICertAdmin2::ResubmitRequest: issued, then fetched; access
//            denied leaves it to a CA manager, saying why).
//            CES has no idempotency key and no search: a request whose
//            answer was lost is never sent again blind
//            (lost_placement::ask_operator, ordering_session.hpp); the job
//            fails naming the CA's console and the time, and the operator
//            collects the request there or runs the job again.
//   revoke   -transport dcom only: ICertAdmin2::RevokeCertificate with the
//            RFC 5280 code (revocation_reasons.hpp), effective now; a
//            failure names the HRESULT. Over CES refused before any request.
//   report   backend test: CEP's GetPolicies (reachable, authenticated), the
//            CA listed with its certificate and this CES among its URIs, the
//            agent and default templates offered and enrollable, the agent
//            certificate's state.

#include <memory>

#include "protocol/ca/msca/msca_backend.hpp"

namespace cbcs::protocol::ca::msca {

std::unique_ptr<job_session> start_request(std::shared_ptr<backend_state> backend, const job& j,
                                           const std::string& resume_token);
std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j);
std::unique_ptr<job_session> start_report(std::shared_ptr<backend_state> backend);

}  // namespace cbcs::protocol::ca::msca
