#include "test_pki.hpp"

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifndef _WIN32
#include <unistd.h>
#endif

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "crypto/certificate_authority.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_types.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"

namespace cbcs::test {
namespace {

crypto::pkey_ptr make_key(const std::string& kind) {
  EVP_PKEY* key = nullptr;
  if (kind == "rsa2048") key = EVP_RSA_gen(2048);
  if (kind == "rsa1024") key = EVP_RSA_gen(1024);
  if (kind == "p256") key = EVP_EC_gen("P-256");
  if (kind == "secp256k1") key = EVP_EC_gen("secp256k1");
  if (kind == "p384") key = EVP_EC_gen("P-384");
  if (kind == "ed25519") key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) throw std::runtime_error("cannot make test key " + kind);
  return crypto::pkey_ptr{key};
}

std::string to_pem(EVP_PKEY* key) {
  crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

std::string make_key_pem(const std::string& kind) { return to_pem(make_key(kind).get()); }

key_and_cert make_self_signed(const std::string& kind, const std::string& common_name) {
  auto key = make_key(kind);
  crypto::x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw std::runtime_error("cannot sign test certificate");
  crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return {to_pem(key.get()), std::string(data, static_cast<std::size_t>(len))};
}

std::string certs_only_cms(const std::string& certificates_pem) {
  auto parsed = crypto::parse_certificates(certificates_pem);
  STACK_OF(X509)* certs = sk_X509_new_null();
  for (auto& c : parsed) sk_X509_push(certs, c.get());
  // Certs-only: no signer, no content (CMS_PARTIAL: nothing to finalise).
  CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, certs, nullptr, CMS_BINARY | CMS_PARTIAL);
  unsigned char* p = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &p);
  std::string out(reinterpret_cast<char*>(p), static_cast<std::size_t>(n));
  OPENSSL_free(p);
  CMS_ContentInfo_free(cms);
  sk_X509_free(certs);
  return out;
}

std::string make_csr(const std::string& kind, const std::string& common_name,
                     const std::string& dns_san) {
  auto key = make_key(kind);
  return crypto::create_csr(
      key.get(), common_name,
      dns_san.empty() ? std::vector<std::string>{} : std::vector<std::string>{dns_san});
}

#ifndef _WIN32
std::string on_path(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    auto candidate = std::filesystem::path(path.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}
#endif

temp_dir::temp_dir() {
  auto p = std::filesystem::temp_directory_path() /
           ("cbcs-test-" + crypto::to_hex(crypto::random_bytes(6)));
  std::filesystem::create_directories(p);
  path_ = p.string();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cbcs::test
