#pragma once
// Keys and self-signed certificates made on the fly, so tests ship no private keys.

#include <string>
#include <string_view>

namespace cbcs::test {

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

struct key_and_cert {
  std::string key_pem;
  std::string cert_pem;
};

// kind: "rsa2048", "rsa1024", "p256", "p384", "ed25519", "secp256k1"
std::string make_key_pem(const std::string& kind);
key_and_cert make_self_signed(const std::string& kind, const std::string& common_name);
// A certs-only CMS SignedData (DER) holding the PEM's certificates: the chain
// part of a CA's answer (AD CS's CMC response, GetCertificate(CR_OUT_CHAIN)).
std::string certs_only_cms(const std::string& certificates_pem);
// A PEM CSR for a fresh key of that kind, with CN and optional DNS SAN.
std::string make_csr(const std::string& kind, const std::string& common_name,
                     const std::string& dns_san = {});

#ifndef _WIN32
// The program's path on PATH (child_process execs a path), or empty.
std::string on_path(const std::string& name);
#endif

// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cbcs::test
