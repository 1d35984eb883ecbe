#include "crypto/certificate_request.hpp"

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "crypto/der.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"

// PKCS #10 (RFC 2986) with the public key kept as bytes. The names carry our
// prefix: the ASN.1 macros make C-style functions of them.
struct cbcs_spki_st {
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* key;
};
using CBCS_SPKI = cbcs_spki_st;

struct cbcs_req_info_st {
  ASN1_INTEGER* version;
  X509_NAME* subject;
  CBCS_SPKI* key;
  STACK_OF(X509_ATTRIBUTE) * attributes;
};
using CBCS_REQ_INFO = cbcs_req_info_st;

struct cbcs_req_st {
  CBCS_REQ_INFO* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
};
using CBCS_REQ = cbcs_req_st;

struct cbcs_rsa_key_st {
  ASN1_INTEGER* n;
  ASN1_INTEGER* e;
};
using CBCS_RSA_KEY = cbcs_rsa_key_st;

// clang-format off
ASN1_SEQUENCE(CBCS_SPKI) = {
    ASN1_SIMPLE(CBCS_SPKI, algorithm, X509_ALGOR),
    ASN1_SIMPLE(CBCS_SPKI, key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(CBCS_SPKI)

ASN1_SEQUENCE(CBCS_REQ_INFO) = {
    ASN1_SIMPLE(CBCS_REQ_INFO, version, ASN1_INTEGER),
    ASN1_SIMPLE(CBCS_REQ_INFO, subject, X509_NAME),
    ASN1_SIMPLE(CBCS_REQ_INFO, key, CBCS_SPKI),
    ASN1_IMP_SET_OF_OPT(CBCS_REQ_INFO, attributes, X509_ATTRIBUTE, 0),
} ASN1_SEQUENCE_END(CBCS_REQ_INFO)

ASN1_SEQUENCE(CBCS_REQ) = {
    ASN1_SIMPLE(CBCS_REQ, info, CBCS_REQ_INFO),
    ASN1_SIMPLE(CBCS_REQ, signature_algorithm, X509_ALGOR),
    ASN1_SIMPLE(CBCS_REQ, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(CBCS_REQ)

ASN1_SEQUENCE(CBCS_RSA_KEY) = {
    ASN1_SIMPLE(CBCS_RSA_KEY, n, ASN1_INTEGER),
    ASN1_SIMPLE(CBCS_RSA_KEY, e, ASN1_INTEGER),
} ASN1_SEQUENCE_END(CBCS_RSA_KEY)

DECLARE_ASN1_FUNCTIONS(CBCS_REQ)
DECLARE_ASN1_FUNCTIONS(CBCS_RSA_KEY)
IMPLEMENT_ASN1_FUNCTIONS(CBCS_REQ);
IMPLEMENT_ASN1_FUNCTIONS(CBCS_RSA_KEY);
// clang-format on

namespace cbcs::crypto {
namespace {

using req_ptr = std::unique_ptr<CBCS_REQ, openssl_deleter<CBCS_REQ, CBCS_REQ_free>>;
using rsa_key_ptr = std::unique_ptr<CBCS_RSA_KEY, openssl_deleter<CBCS_RSA_KEY, CBCS_RSA_KEY_free>>;
using pkey_ctx_ptr =
    std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using param_bld_ptr =
    std::unique_ptr<OSSL_PARAM_BLD, openssl_deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, openssl_deleter<OSSL_PARAM, OSSL_PARAM_free>>;

constexpr std::size_t max_csr_pem = 64 * 1024;

// The subjectAltName of a request's extensionRequest attribute, copied.
ext_ptr san_of(STACK_OF(X509_EXTENSION) * exts) {
  if (!exts) return nullptr;
  int at = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
  return ext_ptr{at >= 0 ? X509_EXTENSION_dup(X509v3_get_ext(exts, at)) : nullptr};
}

bool names_a_subject(X509_NAME* subject, X509_EXTENSION* san) {
  return san || X509_NAME_get_index_by_NID(subject, NID_commonName, -1) >= 0;
}

// A key holding only a curve: copying it and setting the point costs a
// quarter of building the key from its parameters (no new group each time).
EVP_PKEY* curve_template(int curve) {
  auto make = [](const char* name) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(name), 0),
        OSSL_PARAM_construct_end()};
    pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
    EVP_PKEY* key = nullptr;
    if (ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1)
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEY_PARAMETERS, params);
    return key;  // kept for the life of the process; nullptr: the slow path decides
  };
  static EVP_PKEY* const p256 = make("prime256v1");
  static EVP_PKEY* const p384 = make("secp384r1");
  static EVP_PKEY* const p521 = make("secp521r1");
  switch (curve) {
    case NID_X9_62_prime256v1:
      return p256;
    case NID_secp384r1:
      return p384;
    case NID_secp521r1:
      return p521;
    default:
      return nullptr;
  }
}

pkey_ptr from_params(const char* type, const OSSL_PARAM* params) {
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr)};
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1)
    return nullptr;
  return pkey_ptr{key};
}

// The key of an SPKI the fast path accepts (checked as parse_and_check_csr
// checks), or nullptr for anything else.
pkey_ptr accepted_key(const CBCS_SPKI& spki) {
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, spki.algorithm);
  // Public keys are whole bytes: no unused bits.
  if (spki.key->flags & 0x07) return nullptr;
  const unsigned char* bits = spki.key->data;
  auto length = static_cast<std::size_t>(spki.key->length);
  switch (OBJ_obj2nid(oid)) {
    case NID_X9_62_id_ecPublicKey: {
      if (param_type != V_ASN1_OBJECT) return nullptr;
      EVP_PKEY* curve = curve_template(OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(param)));
      if (!curve) return nullptr;
      // The point is decoded and checked to be on the curve.
      pkey_ptr key{EVP_PKEY_dup(curve)};
      if (!key || EVP_PKEY_set1_encoded_public_key(key.get(), bits, length) != 1) return nullptr;
      return key;
    }
    case NID_rsaEncryption: {
      if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) return nullptr;
      const unsigned char* p = bits;
      rsa_key_ptr rsa{d2i_CBCS_RSA_KEY(nullptr, &p, static_cast<long>(length))};
      if (!rsa || p != bits + length) return nullptr;
      bn_ptr n{ASN1_INTEGER_to_BN(rsa->n, nullptr)}, e{ASN1_INTEGER_to_BN(rsa->e, nullptr)};
      if (!n || !e || BN_is_negative(n.get()) || BN_is_negative(e.get())) return nullptr;
      int size = BN_num_bits(n.get());
      if (size < 2048 || size > 8192) return nullptr;
      param_bld_ptr bld{OSSL_PARAM_BLD_new()};
      if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
          !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
        return nullptr;
      params_ptr params{OSSL_PARAM_BLD_to_param(bld.get())};
      return params ? from_params("RSA", params.get()) : nullptr;
    }
    case NID_ED25519: {
      if (param_type != V_ASN1_UNDEF || length != 32) return nullptr;
      return pkey_ptr{EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bits, length)};
    }
    default:
      return nullptr;
  }
}

// True when the request's signature verifies under key with the algorithm it names.
bool signature_verifies(const CBCS_REQ& req, EVP_PKEY* key, int key_nid, const unsigned char* tbs,
                        std::size_t tbs_len) {
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &param_type, nullptr, req.signature_algorithm);
  int digest_nid = NID_undef, sig_key_nid = NID_undef;
  if (!OBJ_find_sigid_algs(OBJ_obj2nid(oid), &digest_nid, &sig_key_nid) || sig_key_nid != key_nid)
    return false;
  if (req.signature->flags & 0x07) return false;
  const char* digest = nullptr;
  switch (digest_nid) {
    case NID_sha256:
      digest = "SHA2-256";
      break;
    case NID_sha384:
      digest = "SHA2-384";
      break;
    case NID_sha512:
      digest = "SHA2-512";
      break;
    case NID_undef:
      if (key_nid != NID_ED25519) return false;
      break;
    default:
      return false;  // older digests: OpenSSL's own path decides
  }
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  return ctx &&
         EVP_DigestVerifyInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr, key, nullptr) == 1 &&
         EVP_DigestVerify(ctx.get(), req.signature->data,
                          static_cast<std::size_t>(req.signature->length), tbs, tbs_len) == 1;
}

// The DER of the request's first element (CertificationRequestInfo) as
// received: the signature covers these bytes, not a re-encoding.
bool signed_part(const unsigned char* der, long der_len, const unsigned char*& tbs,
                 std::size_t& tbs_len) {
  const unsigned char* p = der;
  if (der_enter(p, der_len, V_ASN1_SEQUENCE) < 0) return false;
  const unsigned char* start = p;
  long len = der_enter(p, der_len - (p - der), V_ASN1_SEQUENCE);
  if (len < 0) return false;
  tbs = start;
  tbs_len = static_cast<std::size_t>(p - start) + static_cast<std::size_t>(len);
  return true;
}

}  // namespace

struct certificate_request::parts {
  req_ptr fast;      // the fast path's parse
  x509_req_ptr req;  // or OpenSSL's (null when borrowed by from())
  X509_NAME* subject = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  const unsigned char* key_data = nullptr;
  int key_length = 0;
  ext_ptr san;
};

certificate_request::certificate_request(std::unique_ptr<parts> p) : p_(std::move(p)) {}
certificate_request::certificate_request(certificate_request&&) noexcept = default;
certificate_request& certificate_request::operator=(certificate_request&&) noexcept = default;
certificate_request::~certificate_request() = default;

certificate_request certificate_request::from(X509_REQ* req) { return adopt(req, nullptr); }

certificate_request certificate_request::adopt(X509_REQ* req, x509_req_ptr owned) {
  auto p = std::make_unique<parts>();
  p->req = std::move(owned);
  p->subject = X509_REQ_get_subject_name(req);
  X509_ALGOR* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_PUBKEY* key = X509_REQ_get_X509_PUBKEY(req);
  if (!key || !X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, &algorithm, key))
    throw csr_error("CSR has no usable public key");
  p->algorithm = algorithm;
  p->key_data = bits;
  p->key_length = bits_len;
  extension_stack_ptr exts{X509_REQ_get_extensions(req)};
  ERR_clear_error();
  p->san = san_of(exts.get());
  return certificate_request(std::move(p));
}

X509_NAME* certificate_request::subject() const { return p_->subject; }
const X509_ALGOR* certificate_request::key_algorithm() const { return p_->algorithm; }
const unsigned char* certificate_request::key_data() const { return p_->key_data; }
int certificate_request::key_length() const { return p_->key_length; }
X509_EXTENSION* certificate_request::subject_alt_name() const { return p_->san.get(); }
bool certificate_request::fast() const { return p_->fast != nullptr; }

bool certificate_request::is_rsa() const {
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, p_->algorithm);
  return OBJ_obj2nid(oid) == NID_rsaEncryption;
}

std::string certificate_request::subject_line() const { return crypto::subject_line(p_->subject); }

certificate_request check_certificate_request(std::string_view pem) {
  if (pem.size() > max_csr_pem) throw csr_error("CSR is larger than 64 KiB");
  auto p = std::make_unique<certificate_request::parts>();
  // Takes "CERTIFICATE REQUEST" and "NEW CERTIFICATE REQUEST".
  if (auto der_bytes = openssl_pem_der(pem, PEM_STRING_X509_REQ)) {
    const unsigned char* der = der_bytes->data();
    auto der_len = static_cast<long>(der_bytes->size());
    const unsigned char* tbs = nullptr;
    std::size_t tbs_len = 0;
    const unsigned char* cursor = der;
    if (signed_part(der, der_len, tbs, tbs_len))
      p->fast.reset(d2i_CBCS_REQ(nullptr, &cursor, der_len));
    if (p->fast) {
      auto& info = *p->fast->info;
      auto key = accepted_key(*info.key);
      const ASN1_OBJECT* key_oid = nullptr;
      X509_ALGOR_get0(&key_oid, nullptr, nullptr, info.key->algorithm);
      int key_nid = OBJ_obj2nid(key_oid);
      if (!key || !signature_verifies(*p->fast, key.get(), key_nid, tbs, tbs_len)) {
        p->fast.reset();
      } else {
        // extensionRequest, read as X509_REQ_get_extensions reads it. A
        // request version other than v1, or Microsoft's attribute (which
        // OpenSSL also reads), goes to OpenSSL's parser.
        if (ASN1_INTEGER_get(info.version) != 0 ||
            X509at_get_attr_by_NID(info.attributes, NID_ms_ext_req, -1) >= 0)
          p->fast.reset();
        int at = p->fast ? X509at_get_attr_by_NID(info.attributes, NID_ext_req, -1) : -1;
        extension_stack_ptr exts;
        if (at >= 0) {
          ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(X509at_get_attr(info.attributes, at), 0);
          if (value && value->type == V_ASN1_SEQUENCE) {
            const unsigned char* q = value->value.sequence->data;
            exts.reset(d2i_X509_EXTENSIONS(nullptr, &q, value->value.sequence->length));
          }
          if (!exts) p->fast.reset();  // malformed: let OpenSSL's parser say so
        }
        if (p->fast) {
          p->san = san_of(exts.get());
          p->subject = info.subject;
          p->algorithm = info.key->algorithm;
          p->key_data = info.key->key->data;
          p->key_length = info.key->key->length;
          if (!names_a_subject(p->subject, p->san.get())) p->fast.reset();
        }
      }
    }
  }
  ERR_clear_error();
  if (p->fast) return certificate_request(std::move(p));
  // Everything else, and every refusal with its reason, from OpenSSL's parser.
  auto req = parse_and_check_csr(pem);
  auto* raw = req.get();
  return certificate_request::adopt(raw, std::move(req));
}

x509_req_ptr parse_and_check_csr(std::string_view pem) {
  if (pem.size() > max_csr_pem) throw csr_error("CSR is larger than 64 KiB");
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  x509_req_ptr req{PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)};
  ERR_clear_error();
  if (!req) throw csr_error("CSR is not a PEM certificate request");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) throw csr_error("CSR has no usable public key");
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (bits < 2048)
        throw csr_error("CSR key is RSA " + std::to_string(bits) + ", below 2048 bits");
      if (bits > 8192)
        throw csr_error("CSR key is RSA " + std::to_string(bits) + ", above 8192 bits");
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_group_name(key, group, sizeof group, &len);
      std::string_view g(group);
      if (g != "prime256v1" && g != "secp384r1" && g != "secp521r1")
        throw csr_error("CSR key is on curve " + std::string(g.empty() ? "unknown" : g) +
                        "; P-256, P-384 or P-521 is required");
      break;
    }
    case EVP_PKEY_ED25519:
      break;
    default:
      throw csr_error("CSR key type is not RSA, ECDSA or Ed25519");
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    throw csr_error("CSR signature does not verify");
  }
  extension_stack_ptr exts{X509_REQ_get_extensions(req.get())};
  ERR_clear_error();
  auto san = san_of(exts.get());
  if (!names_a_subject(X509_REQ_get_subject_name(req.get()), san.get()))
    throw csr_error("CSR names neither a subject CN nor subjectAltNames");
  return req;
}

}  // namespace cbcs::crypto
