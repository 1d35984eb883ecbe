#pragma once
// inventory and `backend test` at AWS Private CA: ListCertificateAuthorities
// over every page, then for each CA DescribeCertificateAuthority and, when it
// has a certificate, GetCertificateAuthorityCertificate; a JSON report. One
// CA in a bad state is noted in the report, not fatal.

#include <memory>

#include "protocol/ca/acmpca/acmpca_backend.hpp"

namespace cbcs::protocol::ca::acmpca {

std::unique_ptr<job_session> start_inventory_report(std::shared_ptr<backend_state> backend);

}  // namespace cbcs::protocol::ca::acmpca
