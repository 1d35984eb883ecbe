#pragma once
// The signing half of the built-in local CA: CSR checks, issuance, CRLs.
// No storage here; protocol/ca/local keeps the ledger.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/certificate_request.hpp"
#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

// "ecdsa-p256" (default), "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096".
bool is_supported_key_algorithm(std::string_view name);
pkey_ptr generate_key(std::string_view algorithm);

std::string private_key_to_pem(EVP_PKEY* key);
std::string certificate_to_pem(X509* cert);

struct ca_identity {
  std::string key_pem;
  std::string cert_pem;
};

// A PEM CSR signed by key, with a subject CN and DNS subjectAltNames.
std::string create_csr(EVP_PKEY* key, std::string_view common_name,
                       const std::vector<std::string>& dns_names);

// A self-signed root for the local CA.
ca_identity create_root_ca(std::string_view algorithm, std::string_view common_name,
                           std::chrono::system_clock::time_point now, std::chrono::hours lifetime);

struct issue_params {
  std::vector<std::uint8_t> serial;  // big-endian, positive
  std::chrono::system_clock::time_point now;
  std::chrono::seconds validity;
};

struct issued_certificate {
  std::string pem;
  std::string serial_hex;  // as serial_hex() writes it
};

// A CA ready to sign many certificates. What is the same for every one of
// them (issuer name, authority key id, the fixed extensions) is built once,
// and the subject's public key is copied as encoded: OpenSSL 3.0 would
// otherwise decode and re-encode it through its provider decoders, which
// cost more than the signature itself.
class certificate_issuer {
 public:
  // Borrows key and cert: both must outlive the issuer.
  certificate_issuer(EVP_PKEY* ca_key, X509* ca_cert);
  ~certificate_issuer();
  certificate_issuer(const certificate_issuer&) = delete;
  certificate_issuer& operator=(const certificate_issuer&) = delete;

  // Signs csr: subject and subjectAltName from the CSR, end-entity
  // extensions (CA:FALSE, key usage by key type, serverAuth + clientAuth).
  // The validity is cut to the CA's own notAfter.
  issued_certificate issue(const certificate_request& csr, const issue_params& params) const;

 private:
  EVP_PKEY* key_;
  X509* cert_;
  std::chrono::system_clock::time_point ca_not_after_;
  std::vector<X509_EXTENSION*> fixed_;  // basic constraints, EKU, AKI
  X509_EXTENSION* usage_rsa_ = nullptr;
  X509_EXTENSION* usage_other_ = nullptr;
};

// One certificate from a one-off issuer (tests, the simulator).
std::string issue_certificate(EVP_PKEY* ca_key, X509* ca_cert, X509_REQ* csr,
                              const issue_params& params);

struct revoked_entry {
  std::string serial_hex;
  std::chrono::system_clock::time_point revoked_at;
  int reason = 0;  // RFC 5280 CRLReason code
};

std::string make_crl(EVP_PKEY* ca_key, X509* ca_cert, const std::vector<revoked_entry>& revoked,
                     std::uint64_t crl_number, std::chrono::system_clock::time_point now,
                     std::chrono::hours next_update);

std::chrono::system_clock::time_point not_after(X509* cert);
// True when cert carries a valid signature of issuer's key.
bool is_signed_by(X509* cert, X509* issuer);

}  // namespace cbcs::crypto
