#include "crypto/certificate_authority.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <memory>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"

namespace cbcs::crypto {
namespace {

using asn1_time_ptr = std::unique_ptr<ASN1_TIME, openssl_deleter<ASN1_TIME, ASN1_TIME_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using crl_ptr = std::unique_ptr<X509_CRL, openssl_deleter<X509_CRL, X509_CRL_free>>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void set_time(ASN1_TIME* field, std::chrono::system_clock::time_point t) {
  if (!ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(t)))
    throw crypto_error("cannot set certificate time");
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw crypto_error(std::string("cannot build extension ") + OBJ_nid2sn(nid));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

const EVP_MD* digest_for(EVP_PKEY* key) {
  // Ed25519 signs without a separate digest.
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

void set_serial(X509* cert, const std::vector<std::uint8_t>& serial) {
  bn_ptr bn{BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr)};
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    throw crypto_error("cannot set serial number");
}

}  // namespace

bool is_supported_key_algorithm(std::string_view name) {
  return name == "ecdsa-p256" || name == "ecdsa-p384" || name == "rsa-2048" || name == "rsa-3072" ||
         name == "rsa-4096";
}

pkey_ptr generate_key(std::string_view algorithm) {
  EVP_PKEY* key = nullptr;
  if (algorithm == "ecdsa-p256") key = EVP_EC_gen("P-256");
  if (algorithm == "ecdsa-p384") key = EVP_EC_gen("P-384");
  if (algorithm == "rsa-2048") key = EVP_RSA_gen(2048);
  if (algorithm == "rsa-3072") key = EVP_RSA_gen(3072);
  if (algorithm == "rsa-4096") key = EVP_RSA_gen(4096);
  if (!key) throw crypto_error("cannot generate a " + std::string(algorithm) + " key");
  return pkey_ptr{key};
}

std::string private_key_to_pem(EVP_PKEY* key) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    throw crypto_error("cannot write private key");
  return bio_text(bio.get());
}

std::string certificate_to_pem(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  if (length <= 0) throw crypto_error("cannot write certificate");
  openssl_bytes_ptr owned{der};
  return der_to_pem("CERTIFICATE", byte_view(der, static_cast<std::size_t>(length)));
}

ca_identity create_root_ca(std::string_view algorithm, std::string_view common_name,
                           std::chrono::system_clock::time_point now, std::chrono::hours lifetime) {
  auto key = generate_key(algorithm);
  x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  std::vector<std::uint8_t> serial(16);
  if (RAND_bytes(serial.data(), 16) != 1) throw crypto_error("random failed");
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  set_serial(cert.get(), serial);
  set_time(X509_getm_notBefore(cert.get()), now - std::chrono::minutes(5));
  set_time(X509_getm_notAfter(cert.get()), now + lifetime);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), key.get(), digest_for(key.get())))
    throw crypto_error("cannot sign CA certificate");
  return {private_key_to_pem(key.get()), certificate_to_pem(cert.get())};
}

std::string create_csr(EVP_PKEY* key, std::string_view common_name,
                       const std::vector<std::string>& dns_names) {
  x509_req_ptr req{X509_REQ_new()};
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key);
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (!dns_names.empty()) {
    std::string value;
    for (const auto& d : dns_names) value += (value.empty() ? "DNS:" : ",DNS:") + d;
    extension_stack_ptr exts{sk_X509_EXTENSION_new_null()};
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, value.c_str());
    if (!ext) throw crypto_error("cannot build subjectAltName");
    sk_X509_EXTENSION_push(exts.get(), ext);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  if (!X509_REQ_sign(req.get(), key, digest_for(key))) throw crypto_error("cannot sign CSR");
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bio_text(bio.get());
}

namespace {

X509_EXTENSION* make_extension(X509* issuer, X509* subject, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw crypto_error(std::string("cannot build extension ") + OBJ_nid2sn(nid));
  return ext;
}

// Copies the CSR's SubjectPublicKeyInfo into cert field by field. False when
// its algorithm parameters are of a form we do not copy.
bool copy_public_key(X509* cert, const certificate_request& csr) {
  const unsigned char* bits = csr.key_data();
  int bits_len = csr.key_length();
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&alg_oid, &param_type, &param, csr.key_algorithm());
  void* param_copy = nullptr;
  switch (param_type) {
    case V_ASN1_UNDEF:
    case V_ASN1_NULL:
      break;
    case V_ASN1_OBJECT:  // the curve of an EC key
      param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
      if (!param_copy) return false;
      break;
    case V_ASN1_SEQUENCE:  // explicit parameters (RSA-PSS)
      param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
      if (!param_copy) return false;
      break;
    default:
      return false;
  }
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, bits_len));
  ASN1_OBJECT* oid_copy = OBJ_dup(alg_oid);
  if (!bits_copy || !oid_copy ||
      !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), oid_copy, param_type, param_copy,
                              bits_copy, bits_len)) {
    OPENSSL_free(bits_copy);
    ASN1_OBJECT_free(oid_copy);
    if (param_type == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param_copy));
    if (param_type == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param_copy));
    return false;
  }
  return true;
}

// RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
void add_subject_key_id(X509* cert) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!bits ||
      !EVP_Digest(bits->data, static_cast<size_t>(bits->length), md, &md_len, EVP_sha1(), nullptr))
    throw crypto_error("cannot hash the subject public key");
  ASN1_OCTET_STRING* id = ASN1_OCTET_STRING_new();
  bool ok = id && ASN1_OCTET_STRING_set(id, md, static_cast<int>(md_len)) &&
            X509_add1_ext_i2d(cert, NID_subject_key_identifier, id, 0, X509V3_ADD_DEFAULT) == 1;
  ASN1_OCTET_STRING_free(id);
  if (!ok) throw crypto_error("cannot add the subject key identifier");
}

}  // namespace

certificate_issuer::certificate_issuer(EVP_PKEY* ca_key, X509* ca_cert)
    : key_(ca_key), cert_(ca_cert), ca_not_after_(not_after(ca_cert)) {
  try {
    fixed_.push_back(make_extension(ca_cert, nullptr, NID_basic_constraints, "critical,CA:FALSE"));
    fixed_.push_back(make_extension(ca_cert, nullptr, NID_ext_key_usage, "serverAuth,clientAuth"));
    // keyid of the issuer: needs only the CA certificate.
    x509_ptr probe{X509_new()};
    fixed_.push_back(
        make_extension(ca_cert, probe.get(), NID_authority_key_identifier, "keyid:always"));
    usage_rsa_ = make_extension(ca_cert, nullptr, NID_key_usage,
                                "critical,digitalSignature,keyEncipherment");
    usage_other_ = make_extension(ca_cert, nullptr, NID_key_usage, "critical,digitalSignature");
  } catch (...) {
    for (auto* e : fixed_) X509_EXTENSION_free(e);
    X509_EXTENSION_free(usage_rsa_);
    throw;
  }
}

certificate_issuer::~certificate_issuer() {
  for (auto* e : fixed_) X509_EXTENSION_free(e);
  X509_EXTENSION_free(usage_rsa_);
  X509_EXTENSION_free(usage_other_);
}

issued_certificate certificate_issuer::issue(const certificate_request& csr,
                                             const issue_params& params) const {
  if (params.validity <= std::chrono::seconds(0)) throw csr_error("validity must be positive");
  x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  set_serial(cert.get(), params.serial);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_));
  X509_set_subject_name(cert.get(), csr.subject());
  if (!copy_public_key(cert.get(), csr)) throw crypto_error("cannot copy the CSR's public key");
  // Five minutes back-dated for clients whose clocks run slow.
  set_time(X509_getm_notBefore(cert.get()), params.now - std::chrono::minutes(5));
  auto end = params.now + params.validity;
  set_time(X509_getm_notAfter(cert.get()), end < ca_not_after_ ? end : ca_not_after_);

  X509_add_ext(cert.get(), fixed_[0], -1);  // basic constraints
  X509_add_ext(cert.get(), csr.is_rsa() ? usage_rsa_ : usage_other_, -1);
  X509_add_ext(cert.get(), fixed_[1], -1);  // extended key usage
  add_subject_key_id(cert.get());
  X509_add_ext(cert.get(), fixed_[2], -1);  // authority key id
  if (auto* san = csr.subject_alt_name()) X509_add_ext(cert.get(), san, -1);
  if (!X509_sign(cert.get(), key_, digest_for(key_))) throw crypto_error("cannot sign certificate");
  return {certificate_to_pem(cert.get()), serial_hex(cert.get())};
}

std::string issue_certificate(EVP_PKEY* ca_key, X509* ca_cert, X509_REQ* csr,
                              const issue_params& params) {
  return certificate_issuer(ca_key, ca_cert).issue(certificate_request::from(csr), params).pem;
}

std::string make_crl(EVP_PKEY* ca_key, X509* ca_cert, const std::vector<revoked_entry>& revoked,
                     std::uint64_t crl_number, std::chrono::system_clock::time_point now,
                     std::chrono::hours next_update) {
  crl_ptr crl{X509_CRL_new()};
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert));
  asn1_time_ptr last{ASN1_TIME_new()}, next{ASN1_TIME_new()};
  set_time(last.get(), now);
  set_time(next.get(), now + next_update);
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& r : revoked) {
    X509_REVOKED* rev = X509_REVOKED_new();
    BIGNUM* bn = nullptr;
    if (!BN_hex2bn(&bn, r.serial_hex.c_str())) {
      X509_REVOKED_free(rev);
      throw crypto_error("bad serial in revocation list");
    }
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    BN_free(bn);
    X509_REVOKED_set_serialNumber(rev, serial);
    ASN1_INTEGER_free(serial);
    asn1_time_ptr when{ASN1_TIME_new()};
    set_time(when.get(), r.revoked_at);
    X509_REVOKED_set_revocationDate(rev, when.get());
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, r.reason);
    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl.get(), rev);
  }
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  ASN1_INTEGER_set_uint64(number, crl_number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0);
  ASN1_INTEGER_free(number);
  X509_CRL_sort(crl.get());
  if (!X509_CRL_sign(crl.get(), ca_key, digest_for(ca_key))) throw crypto_error("cannot sign CRL");
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  return bio_text(bio.get());
}

std::chrono::system_clock::time_point not_after(X509* cert) {
  return to_utc_time(X509_get0_notAfter(cert));
}

bool is_signed_by(X509* cert, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  bool ok = key && X509_verify(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace cbcs::crypto
