#pragma once
// enroll and renew at AWS Private CA:
//
//   [DescribeCertificateAuthority] -> IssueCertificate -> GetCertificate
//
// Describe picks SigningAlgorithm from the CA's KeyAlgorithm and is skipped
// when the job gives params["signing_algorithm"]. After IssueCertificate the
// certificate ARN is the session's resume_token(); a session started with
// that token goes straight to GetCertificate, so a restart never issues
// twice, even after AWS's five-minute IdempotencyToken window.
// RequestInProgressException to GetCertificate -> pending (poll after 1 s).

#include <memory>
#include <string>

#include "protocol/ca/acmpca/acmpca_backend.hpp"

namespace cbcs::protocol::ca::acmpca {

std::unique_ptr<job_session> start_issue(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token);

}  // namespace cbcs::protocol::ca::acmpca
