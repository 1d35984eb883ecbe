#pragma once
// The names a CSR asks for and the public keys of requests and certificates,
// for CAs that take them as fields of their own (DigiCert's common_name and
// dns_names) and for picking a leaf out of a chain by its key.

#include <string>
#include <string_view>
#include <vector>

#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

struct requested_names {
  std::string common_name;             // "" when the subject has none
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries, in order
};

// The names of a PEM CSR; throws csr_error when it cannot be read.
requested_names names_of_request(std::string_view csr_pem);

// SubjectPublicKeyInfo, DER: equal keys give equal bytes.
std::string public_key_der(X509* cert);
// The same of a PEM CSR; throws csr_error when it cannot be read.
std::string request_public_key_der(std::string_view csr_pem);

}  // namespace cbcs::crypto
