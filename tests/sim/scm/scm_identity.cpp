#include "tests/sim/scm/scm_identity.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "protocol/scm/installation_token.hpp"

namespace cbcs::sim::scm {

std::string public_key_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string common_name_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

scm_identity::scm_identity(const std::string& state_dir)
    : pki_(state_dir, "scm", "cbcs-sim SCM CA") {
  unsigned char* der = nullptr;
  int der_len = i2d_X509(pki_.ca_cert(), &der);
  ca_fingerprint_ = protocol::scm::certificate_fingerprint(
      crypto::byte_view(der, static_cast<std::size_t>(der_len)));
  OPENSSL_free(der);
}

std::string scm_identity::issue_client(std::string_view csr_pem, std::string_view connector_id,
                                       std::chrono::system_clock::time_point now,
                                       std::chrono::seconds validity) const {
  auto csr = crypto::parse_and_check_csr(csr_pem);
  // SCM takes only the public key from the CSR and names the subject itself.
  auto req = template_request(X509_REQ_get0_pubkey(csr.get()), connector_id, nullptr);
  return crypto::issue_certificate(pki_.ca_key(), pki_.ca_cert(), req.get(),
                                   {fresh_serial(), now, validity});
}

}  // namespace cbcs::sim::scm
