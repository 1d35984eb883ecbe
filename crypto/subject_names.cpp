#include "crypto/subject_names.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>

#include "crypto/certificate_request.hpp"

namespace cbcs::crypto {
namespace {

x509_req_ptr read_request(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (!bio) throw csr_error("the CSR cannot be read");
  x509_req_ptr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) throw csr_error("the CSR is not a PEM certificate request");
  return req;
}

std::string to_string(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), std::size_t(n));
  OPENSSL_free(utf8);
  return out;
}

std::string spki_der(EVP_PKEY* key) {
  if (!key) return {};
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), std::size_t(n));
  OPENSSL_free(der);
  return out;
}

}  // namespace

requested_names names_of_request(std::string_view csr_pem) {
  auto req = read_request(csr_pem);
  requested_names out;
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  int at = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (at >= 0)
    out.common_name = to_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  if (exts) {
    auto* names =
        static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) out.dns_names.push_back(to_string(name->d.dNSName));
    }
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  return out;
}

std::string public_key_der(X509* cert) {
  EVP_PKEY* key = cert ? X509_get0_pubkey(cert) : nullptr;
  return spki_der(key);
}

std::string request_public_key_der(std::string_view csr_pem) {
  auto req = read_request(csr_pem);
  return spki_der(X509_REQ_get0_pubkey(req.get()));
}

}  // namespace cbcs::crypto
