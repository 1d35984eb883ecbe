#pragma once
// A simulator's own PKI, kept in its state dir so a restarted simulator is
// still trusted: a CA (<prefix>-ca.pem / .key) and a TLS server certificate
// for localhost / 127.0.0.1 signed by it (server.pem / server.key). Clients
// trust the simulator with the CA file.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/openssl_types.hpp"

namespace cbcs::sim {

class sim_pki {
 public:
  // Loads or creates the files; ca_name is the CA's subject CN. Throws
  // std::runtime_error naming the file on failure.
  sim_pki(const std::string& state_dir, std::string_view prefix, std::string_view ca_name);

  const std::string& ca_pem() const { return ca_pem_; }
  const std::string& ca_file() const { return ca_file_; }
  // Leaf then CA: a client that pins the CA may want it in the chain.
  std::string server_chain_pem() const { return server_pem_ + ca_pem_; }
  const std::string& server_key_pem() const { return server_key_pem_; }
  X509* ca_cert() const { return ca_cert_.get(); }
  EVP_PKEY* ca_key() const { return ca_key_.get(); }

 private:
  std::string ca_file_;
  std::string ca_pem_;
  std::string server_pem_;
  std::string server_key_pem_;
  crypto::x509_ptr ca_cert_;
  crypto::pkey_ptr ca_key_;
};

// Small file helpers for state dirs. write_file sets perms after writing.
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& text,
                std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);

// A fresh positive 16-byte serial number.
std::vector<std::uint8_t> fresh_serial();

// A CSR-shaped template for crypto::issue_certificate: only the key, the
// subject CN and (optionally) SANs in OpenSSL's "DNS:a,IP:b" form matter.
crypto::x509_req_ptr template_request(EVP_PKEY* key, std::string_view cn, const char* san);

}  // namespace cbcs::sim
