#pragma once
// The simulator's own PKI: the "SCM CA" (kept in state-dir so a restarted
// simulator still trusts the connectors it registered), the TLS server
// certificate it signs, and the connectors' client certificates.

#include <chrono>
#include <string>
#include <string_view>

#include "crypto/openssl_types.hpp"
#include "tests/sim/common/sim_pki.hpp"

namespace cbcs::sim::scm {

class scm_identity {
 public:
  // Loads scm-ca.pem/scm-ca.key and server.pem/server.key from state_dir, or
  // creates them. Throws std::runtime_error naming the file on failure.
  explicit scm_identity(const std::string& state_dir);

  const std::string& ca_pem() const { return pki_.ca_pem(); }
  const std::string& ca_file() const { return pki_.ca_file(); }
  // Leaf then CA: the connector pins the CA, so it must travel in the chain.
  std::string server_chain_pem() const { return pki_.server_chain_pem(); }
  const std::string& server_key_pem() const { return pki_.server_key_pem(); }
  // Lower-case hex SHA-256 of the CA's DER: the token's ca_sha256.
  const std::string& ca_fingerprint() const { return ca_fingerprint_; }
  X509* ca_cert() const { return pki_.ca_cert(); }

  // A client certificate for the CSR's key only: subject CN = connector_id,
  // no SANs from the CSR. Throws crypto::csr_error for a CSR we refuse.
  std::string issue_client(std::string_view csr_pem, std::string_view connector_id,
                           std::chrono::system_clock::time_point now,
                           std::chrono::seconds validity) const;

 private:
  sim_pki pki_;
  std::string ca_fingerprint_;
};

// DER of a certificate's public key, to recognise a retried registration.
std::string public_key_der(EVP_PKEY* key);
// The CN of a certificate's subject, empty when it has none.
std::string common_name_of(X509* cert);

}  // namespace cbcs::sim::scm
