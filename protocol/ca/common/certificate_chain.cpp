#include "protocol/ca/common/certificate_chain.hpp"

#include <fmt/format.h>

#include <set>
#include <vector>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "crypto/subject_names.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {

picked_leaf pick_leaf(std::string_view bundle, std::string_view csr_pem) {
  std::vector<crypto::x509_ptr> certs;
  std::string wanted;
  try {
    certs = crypto::parse_certificates(bundle);
    wanted = crypto::request_public_key_der(csr_pem);
  } catch (const std::exception& e) {
    return {.error = one_line(fmt::format("the certificates cannot be read: {}", e.what()), 256)};
  }
  std::set<std::string> seen;
  issued_certificate out;
  bool found = false;
  for (auto& cert : certs) {
    auto pem = crypto::certificate_to_pem(cert.get());
    if (!seen.insert(pem).second) continue;  // a duplicate
    if (!found && crypto::public_key_der(cert.get()) == wanted) {
      found = true;
      out.leaf_pem = std::move(pem);
      out.serial_hex = crypto::serial_hex(cert.get());
    } else {
      out.chain_pem += pem;
    }
  }
  if (!found)
    return {.error = fmt::format("none of the {} certificates the CA returned has the CSR's key",
                                 seen.size())};
  return {.certificate = std::move(out)};
}

}  // namespace cbcs::protocol::ca
