#include "crypto/cms_request.hpp"

#include "crypto/certificate_authority.hpp"

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"

namespace cbcs::crypto {
namespace {

using cms_ptr =
    std::unique_ptr<CMS_ContentInfo, openssl_deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using object_ptr = std::unique_ptr<ASN1_OBJECT, openssl_deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
using string_ptr = std::unique_ptr<ASN1_STRING, openssl_deleter<ASN1_STRING, ASN1_STRING_free>>;

// Requests this large are not PKCS #10s SCM sends (an RSA 8192 one is ~2 kB).
constexpr std::size_t max_pkcs10_bytes = 64 * 1024;
constexpr std::size_t max_requester_bytes = 256;
// A chain is a handful; more is not an answer to one request.
constexpr int max_response_certificates = 64;

[[noreturn]] void fail(const std::string& line) {
  ERR_clear_error();
  throw cms_error(line);
}

void append_length(bytes& out, std::size_t n) {
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
    return;
  }
  std::uint8_t digits[sizeof n] = {};
  int count = 0;
  for (; n != 0; n >>= 8) digits[count++] = static_cast<std::uint8_t>(n & 0xff);
  out.push_back(static_cast<std::uint8_t>(0x80 | count));
  while (count > 0) out.push_back(digits[--count]);
}

void append_tlv(bytes& out, std::uint8_t tag, byte_view content) {
  out.push_back(tag);
  append_length(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

// UTF-8 to a BMPString's content (UCS-2, big-endian): OpenSSL's conversion
// refuses malformed UTF-8 and characters beyond U+FFFF.
bytes bmp_content(std::string_view utf8) {
  if (utf8.size() > INT_MAX) fail("name-value text too long");
  ASN1_STRING* out = nullptr;
  int rc = ASN1_mbstring_copy(&out, reinterpret_cast<const unsigned char*>(utf8.data()),
                              static_cast<int>(utf8.size()), MBSTRING_UTF8, B_ASN1_BMPSTRING);
  string_ptr owned{out};
  if (rc != V_ASN1_BMPSTRING || !out)
    fail("name-value text is not UTF-8 within the Basic Multilingual Plane");
  const auto* data = ASN1_STRING_get0_data(out);
  return bytes(data, data + ASN1_STRING_length(out));
}

// A BMPString's content (UCS-2, big-endian) as UTF-8; nullopt when it is not
// UCS-2 (odd length, or a surrogate code unit). Trailing U+0000 are dropped:
// writers that copy a C wide string keep its terminator (impacket's
// checkNullString, which Certipy uses, adds one), Microsoft's example has none.
std::optional<std::string> bmp_to_utf8(const unsigned char* p, long n) {
  if (n % 2 != 0) return std::nullopt;
  while (n >= 2 && p[n - 2] == 0 && p[n - 1] == 0) n -= 2;
  std::string out;
  for (long i = 0; i < n; i += 2) {
    unsigned c = (static_cast<unsigned>(p[i]) << 8) | p[i + 1];
    if (c >= 0xd800 && c <= 0xdfff) return std::nullopt;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xe0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// One DER TLV of definite length inside [p, end); indefinite lengths (BER)
// and anything malformed are refused.
struct tlv {
  int tag = 0;
  int xclass = 0;
  bool constructed = false;
  const unsigned char* content = nullptr;
  long length = 0;
  const unsigned char* end() const { return content + length; }
};

bool next_tlv(const unsigned char*& p, const unsigned char* end, tlv& out) {
  if (p >= end) return false;
  const unsigned char* q = p;
  long len = 0;
  int tag = 0, xclass = 0;
  int rc = ASN1_get_object(&q, &len, &tag, &xclass, end - p);
  if ((rc & 0x80) || rc == 0x21) return false;  // malformed, or constructed indefinite
  out.tag = tag;
  out.xclass = xclass;
  out.constructed = (rc & V_ASN1_CONSTRUCTED) != 0;
  out.content = q;
  out.length = len;
  p = q + len;
  return true;
}

bool is_universal(const tlv& t, int tag, bool constructed) {
  return t.xclass == V_ASN1_UNIVERSAL && t.tag == tag && t.constructed == constructed;
}

// A DER INTEGER that fits a long (statuses, failInfo).
bool small_integer(const tlv& t, long& out) {
  if (!is_universal(t, V_ASN1_INTEGER, false) || t.length < 1 || t.length > 4) return false;
  long v = (t.content[0] & 0x80) ? -1 : 0;
  for (long i = 0; i < t.length; ++i) v = (v << 8) | t.content[i];
  out = v;
  return true;
}

bool same_oid(const tlv& t, std::initializer_list<std::uint8_t> encoded) {
  return is_universal(t, V_ASN1_OBJECT, false) &&
         static_cast<std::size_t>(t.length) == encoded.size() &&
         std::memcmp(t.content, encoded.begin(), encoded.size()) == 0;
}

// One pair: SEQUENCE { BMPString, BMPString } ([MS-WCCE] 2.2.2.7.10).
bool read_pair(const tlv& seq, name_value_pair& out) {
  if (!is_universal(seq, V_ASN1_SEQUENCE, true)) return false;
  const unsigned char* p = seq.content;
  tlv name, value;
  if (!next_tlv(p, seq.end(), name) || !next_tlv(p, seq.end(), value) || p != seq.end())
    return false;
  if (!is_universal(name, V_ASN1_BMPSTRING, false) || !is_universal(value, V_ASN1_BMPSTRING, false))
    return false;
  auto n = bmp_to_utf8(name.content, name.length);
  auto v = bmp_to_utf8(value.content, value.length);
  if (!n || !v) return false;
  out = {std::move(*n), std::move(*v)};
  return true;
}

cms_ptr parse_cms(byte_view der, const char* what) {
  if (der.size() > max_ca_response_bytes)
    fail(std::string(what) + " is larger than " + std::to_string(max_ca_response_bytes) + " bytes");
  if (der.empty()) fail(std::string(what) + " is empty");
  const unsigned char* p = der.data();
  cms_ptr cms{d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()))};
  if (!cms) fail(std::string(what) + " is not a CMS (PKCS #7) structure");
  if (p != der.data() + der.size()) fail(std::string(what) + " has bytes after its CMS structure");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    fail(std::string(what) + " is not CMS SignedData");
  return cms;
}

// Text from the CA for a message: printable, one line, bounded.
std::string one_line(const unsigned char* p, long n) {
  std::string out;
  for (long i = 0; i < n && out.size() < 512; ++i) {
    unsigned char c = p[i];
    out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  }
  return out;
}

cmc_status status_from(long v) {
  switch (v) {
    case 0:
      return cmc_status::success;
    case 2:
      return cmc_status::failed;
    case 3:
      return cmc_status::pending;
    case 4:
      return cmc_status::no_support;
    case 5:
      return cmc_status::confirm_required;
    case 6:
      return cmc_status::pop_required;
    case 7:
      return cmc_status::partial;
    default:
      return cmc_status::unknown;
  }
}

struct status_reading {
  cmc_status status = cmc_status::unknown;
  std::string status_string;
  std::optional<long> fail_info;
  bytes pend_token;
};

// CMCStatusInfo (RFC 2797 §5.1) or CMCStatusInfoV2 (RFC 5272 §6.1.1):
//   SEQUENCE { cMCStatus INTEGER, bodyList SEQUENCE, statusString UTF8String
//   OPTIONAL, otherInfo CHOICE { failInfo INTEGER, pendInfo SEQUENCE {
//   pendToken OCTET STRING, pendTime GeneralizedTime }, extendedFailInfo
//   SEQUENCE { OID, ANY } (V2 only) } OPTIONAL }
std::optional<status_reading> read_status_info(const tlv& value, std::string& problem) {
  if (!is_universal(value, V_ASN1_SEQUENCE, true)) {
    problem = "CMC status is not a SEQUENCE";
    return std::nullopt;
  }
  const unsigned char* p = value.content;
  tlv code, body_list;
  long v = 0;
  if (!next_tlv(p, value.end(), code) || !small_integer(code, v) ||
      !next_tlv(p, value.end(), body_list) || !is_universal(body_list, V_ASN1_SEQUENCE, true)) {
    problem = "CMC status lacks its status or body list";
    return std::nullopt;
  }
  status_reading out;
  out.status = status_from(v);
  if (out.status == cmc_status::unknown) problem = "CMC status " + std::to_string(v);
  tlv t;
  bool have = next_tlv(p, value.end(), t);
  if (have && is_universal(t, V_ASN1_UTF8STRING, false)) {
    out.status_string = one_line(t.content, t.length);
    have = next_tlv(p, value.end(), t);
  }
  if (have) {
    long fail_code = 0;
    if (small_integer(t, fail_code)) {
      out.fail_info = fail_code;
    } else if (is_universal(t, V_ASN1_SEQUENCE, true)) {
      const unsigned char* q = t.content;
      tlv first;
      if (next_tlv(q, t.end(), first) && is_universal(first, V_ASN1_OCTET_STRING, false))
        out.pend_token.assign(first.content, first.end());
      // else extendedFailInfo: its OID says nothing we act on.
    } else {
      problem = "CMC status has an unreadable otherInfo";
      return std::nullopt;
    }
  }
  if (p != value.end()) {
    problem = "CMC status has trailing fields";
    return std::nullopt;
  }
  return out;
}

// PKIResponse ::= SEQUENCE { controlSequence SEQUENCE OF TaggedAttribute,
// cmsSequence SEQUENCE OF TaggedContentInfo, otherMsgSequence SEQUENCE OF
// OtherMsg } (RFC 5272 §3.2.2); TaggedAttribute ::= SEQUENCE { bodyPartID
// INTEGER, attrType OID, attrValues SET OF ANY } (§3.2.1.1). Only the status
// controls are read; a failure to read them leaves status `unknown` and says
// why, since the certificates are still what the CA sent.
void read_pki_response(const unsigned char* data, long n, ca_response& out) {
  const unsigned char* p = data;
  const unsigned char* end = data + n;
  tlv response, controls;
  if (!next_tlv(p, end, response) || !is_universal(response, V_ASN1_SEQUENCE, true) || p != end) {
    out.status = cmc_status::unknown;
    out.problem = "the PKIResponse is not a DER SEQUENCE";
    return;
  }
  p = response.content;
  if (!next_tlv(p, response.end(), controls) || !is_universal(controls, V_ASN1_SEQUENCE, true)) {
    out.status = cmc_status::unknown;
    out.problem = "the PKIResponse has no control sequence";
    return;
  }
  std::optional<status_reading> found;
  const unsigned char* c = controls.content;
  while (c < controls.end()) {
    tlv attribute, body_part, type, values;
    long id = 0;
    if (!next_tlv(c, controls.end(), attribute) ||
        !is_universal(attribute, V_ASN1_SEQUENCE, true)) {
      out.status = cmc_status::unknown;
      out.problem = "the PKIResponse has a malformed control";
      return;
    }
    const unsigned char* a = attribute.content;
    if (!next_tlv(a, attribute.end(), body_part) || !small_integer(body_part, id) ||
        !next_tlv(a, attribute.end(), type) || !is_universal(type, V_ASN1_OBJECT, false) ||
        !next_tlv(a, attribute.end(), values) || !is_universal(values, V_ASN1_SET, true) ||
        a != attribute.end()) {
      out.status = cmc_status::unknown;
      out.problem = "the PKIResponse has a malformed control";
      return;
    }
    // id-cmc-statusInfo 1.3.6.1.5.5.7.7.1, id-cmc-statusInfoV2 1.3.6.1.5.5.7.7.25
    bool v1 = same_oid(type, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x01});
    bool v2 = same_oid(type, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x19});
    if (!v1 && !v2) continue;
    const unsigned char* v = values.content;
    while (v < values.end()) {
      tlv value;
      std::string problem;
      if (!next_tlv(v, values.end(), value)) problem = "the CMC status is malformed";
      auto reading = problem.empty() ? read_status_info(value, problem) : std::nullopt;
      if (!reading) {
        out.status = cmc_status::unknown;
        out.problem = problem;
        return;
      }
      // One request, one status; several that disagree are not an answer.
      if (found && found->status != reading->status) {
        out.status = cmc_status::unknown;
        out.problem = "the PKIResponse carries conflicting CMC statuses";
        return;
      }
      if (!found) {
        found = std::move(reading);
        if (found->status == cmc_status::unknown) out.problem = problem;
      }
    }
  }
  if (!found) return;  // no status control: status stays `absent`
  out.status = found->status;
  out.status_string = std::move(found->status_string);
  out.fail_info = found->fail_info;
  out.pend_token = std::move(found->pend_token);
}

bool is_issuer_of(X509* issuer, X509* subject) {
  bool ok = X509_check_issued(issuer, subject) == X509_V_OK;
  ERR_clear_error();
  return ok;
}

bool has_key(X509* cert, EVP_PKEY* key) {
  EVP_PKEY* cert_key = X509_get0_pubkey(cert);
  bool ok = cert_key && EVP_PKEY_eq(cert_key, key) == 1;
  ERR_clear_error();
  return ok;
}

// Leaf first, then each next certificate the issuer of the one before, then
// whatever is left in the order the CA sent it.
std::vector<X509*> chain_order(STACK_OF(X509) * certs, EVP_PKEY* leaf_key, bool need_leaf) {
  std::vector<X509*> bag;
  for (int i = 0; i < sk_X509_num(certs); ++i) bag.push_back(sk_X509_value(certs, i));
  std::vector<X509*> out;
  if (bag.empty()) return out;
  std::size_t leaf = bag.size();
  if (leaf_key) {
    for (std::size_t i = 0; i < bag.size() && leaf == bag.size(); ++i)
      if (has_key(bag[i], leaf_key)) leaf = i;
    if (leaf == bag.size() && need_leaf)
      fail("no certificate in the CA's answer is for the request's public key");
  } else {
    // The first one that issued none of the others.
    for (std::size_t i = 0; i < bag.size() && leaf == bag.size(); ++i) {
      bool issues = false;
      for (std::size_t j = 0; j < bag.size() && !issues; ++j)
        issues = i != j && is_issuer_of(bag[i], bag[j]);
      if (!issues) leaf = i;
    }
  }
  std::vector<bool> used(bag.size(), false);
  if (leaf < bag.size()) {
    out.push_back(bag[leaf]);
    used[leaf] = true;
    for (bool more = true; more;) {
      more = false;
      for (std::size_t i = 0; i < bag.size(); ++i) {
        if (!used[i] && is_issuer_of(bag[i], out.back())) {
          out.push_back(bag[i]);
          used[i] = true;
          more = true;
          break;
        }
      }
    }
  }
  for (std::size_t i = 0; i < bag.size(); ++i)
    if (!used[i]) out.push_back(bag[i]);
  return out;
}


void check_agent_key(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return;
  if (id == EVP_PKEY_EC) {
    char group[64] = {};
    if (EVP_PKEY_get_group_name(key, group, sizeof group, nullptr) == 1 &&
        (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "secp384r1") == 0))
      return;
  }
  fail("the agent key must be RSA or ECDSA on P-256 or P-384, not " + key_description(key));
}

}  // namespace

bytes encode_name_value_pair(const name_value_pair& pair) {
  bytes body;
  append_tlv(body, V_ASN1_BMPSTRING, bmp_content(pair.name));
  append_tlv(body, V_ASN1_BMPSTRING, bmp_content(pair.value));
  bytes out;
  append_tlv(out, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, body);
  return out;
}

bytes sign_on_behalf_request(const on_behalf_request& request) {
  ERR_clear_error();
  if (!request.agent_key || !request.agent_cert) fail("no agent certificate or key to sign with");
  check_agent_key(request.agent_key);
  if (!key_matches_certificate(request.agent_key, request.agent_cert))
    fail("the agent key is not the agent certificate's key");

  const auto& csr = request.pkcs10_der;
  if (csr.empty() || csr.size() > max_pkcs10_bytes)
    fail("the PKCS #10 request is empty or larger than " + std::to_string(max_pkcs10_bytes) +
         " bytes");
  {
    // [MS-WCCE] 3.1.1.4.3.3.2: eContent MUST be the PKCS #10; do not sign anything else.
    const unsigned char* p = csr.data();
    x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()))};
    if (!req || p != csr.data() + csr.size()) fail("the request to sign is not a DER PKCS #10");
  }

  const auto& requester = request.requester_name;
  if (requester.empty() || requester.size() > max_requester_bytes)
    fail("the requester name must be 1 to " + std::to_string(max_requester_bytes) + " bytes");
  for (unsigned char c : requester)
    if (c < 0x20 || c == 0x7f) fail("the requester name has a control character");
  // [MS-WCCE] 2.2.2.7.10: the name is "requestername", the value the SAM name.
  auto pair = encode_name_value_pair({"requestername", requester});

  constexpr unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
  // No signer yet: CMS_PARTIAL leaves an empty SignedData, embedded content
  // type id-data, which [MS-WCCE] 3.1.1.4.3.3.2 asks for.
  cms_ptr cms{CMS_sign(nullptr, nullptr, nullptr, nullptr, flags)};
  if (!cms) throw crypto_error("cannot start CMS SignedData");
  CMS_SignerInfo* si =
      CMS_add1_signer(cms.get(), request.agent_cert, request.agent_key, EVP_sha256(), flags);
  if (!si) throw crypto_error("cannot add the agent as CMS signer");
  object_ptr oid{OBJ_txt2obj(enrollment_name_value_pair_oid, 1)};
  if (!oid || CMS_signed_add1_attr_by_OBJ(si, oid.get(), V_ASN1_SEQUENCE, pair.data(),
                                          static_cast<int>(pair.size())) != 1)
    throw crypto_error("cannot add the requestername attribute");
  for (X509* cert : request.chain) {
    if (!cert || X509_cmp(cert, request.agent_cert) == 0) continue;  // already in
    if (CMS_add1_cert(cms.get(), cert) != 1) throw crypto_error("cannot add a chain certificate");
  }
  bio_ptr content{BIO_new_mem_buf(csr.data(), static_cast<int>(csr.size()))};
  if (!content) throw crypto_error("cannot allocate BIO");
  // Digests the content, then adds contentType, messageDigest and
  // signingTime to the signed attributes and signs them.
  if (CMS_final(cms.get(), content.get(), nullptr, CMS_BINARY) != 1)
    throw crypto_error("cannot sign the request");

  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms.get(), &der);
  if (len <= 0) throw crypto_error("cannot encode the CMS request");
  openssl_bytes_ptr owned{der};
  return bytes(der, der + len);
}

std::vector<name_value_pair> signed_name_value_pairs(byte_view cms_der) {
  ERR_clear_error();
  auto cms = parse_cms(cms_der, "the CMS");
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (!signers || sk_CMS_SignerInfo_num(signers) < 1) fail("the CMS has no signer");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);
  object_ptr oid{OBJ_txt2obj(enrollment_name_value_pair_oid, 1)};
  if (!oid) throw crypto_error("cannot make the name-value pair OID");
  std::vector<name_value_pair> out;
  for (int at = CMS_signed_get_attr_by_OBJ(si, oid.get(), -1); at >= 0;
       at = CMS_signed_get_attr_by_OBJ(si, oid.get(), at)) {
    X509_ATTRIBUTE* attribute = CMS_signed_get_attr(si, at);
    for (int i = 0; i < X509_ATTRIBUTE_count(attribute); ++i) {
      ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, i);
      if (!value || value->type != V_ASN1_SEQUENCE) fail("a name-value pair is not a SEQUENCE");
      const unsigned char* p = value->value.sequence->data;
      const unsigned char* end = p + value->value.sequence->length;
      tlv outer;
      if (!next_tlv(p, end, outer) || p != end) fail("a name-value pair is malformed");
      const unsigned char* q = outer.content;
      tlv first;
      if (!next_tlv(q, outer.end(), first)) fail("a name-value pair is empty");
      name_value_pair pair;
      if (is_universal(first, V_ASN1_BMPSTRING, false)) {
        if (!read_pair(outer, pair)) fail("a name-value pair is malformed");
        out.push_back(std::move(pair));
        continue;
      }
      // SEQUENCE OF EnrollmentNameValuePair
      for (q = outer.content; q < outer.end();) {
        tlv item;
        if (!next_tlv(q, outer.end(), item) || !read_pair(item, pair))
          fail("a name-value pair is malformed");
        out.push_back(std::move(pair));
      }
    }
  }
  ERR_clear_error();
  return out;
}

std::string_view to_string(cmc_status status) {
  switch (status) {
    case cmc_status::absent:
      return "absent";
    case cmc_status::success:
      return "success";
    case cmc_status::failed:
      return "failed";
    case cmc_status::pending:
      return "pending";
    case cmc_status::no_support:
      return "noSupport";
    case cmc_status::confirm_required:
      return "confirmRequired";
    case cmc_status::pop_required:
      return "popRequired";
    case cmc_status::partial:
      return "partial";
    case cmc_status::unknown:
      return "unknown";
  }
  return "unknown";
}

ca_response read_ca_response(byte_view der, EVP_PKEY* leaf_key) {
  ERR_clear_error();
  auto cms = parse_cms(der, "the CA's answer");
  ca_response out;
  const ASN1_OBJECT* content_type = CMS_get0_eContentType(cms.get());
  int content_nid = content_type ? OBJ_obj2nid(content_type) : NID_undef;
  if (content_nid == NID_id_cct_PKIResponse) {
    out.cmc = true;
    ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
    if (content && *content) {
      read_pki_response(ASN1_STRING_get0_data(*content), ASN1_STRING_length(*content), out);
    } else {
      out.status = cmc_status::unknown;
      out.problem = "the CMC answer has no PKIResponse content";
    }
  } else if (content_nid != NID_pkcs7_data) {
    fail("the CA's answer holds neither certificates only nor a CMC PKIResponse");
  }

  x509_stack_ptr certs{CMS_get1_certs(cms.get())};
  int count = certs ? sk_X509_num(certs.get()) : 0;
  if (count > max_response_certificates)
    fail("the CA's answer holds more than " + std::to_string(max_response_certificates) +
         " certificates");
  if (count == 0 && !out.cmc) fail("the CA's answer holds no certificate");
  // A CMC answer that is not a success may name no certificate for the key.
  bool need_leaf =
      !out.cmc || out.status == cmc_status::success || out.status == cmc_status::absent;
  if (count > 0)
    for (X509* cert : chain_order(certs.get(), leaf_key, need_leaf))
      out.certificates.push_back(certificate_to_pem(cert));
  else if (leaf_key && out.status == cmc_status::success)
    fail("the CA's answer reports success but holds no certificate");
  ERR_clear_error();
  return out;
}

ca_response read_ca_response_for_csr(byte_view der, byte_view csr_der) {
  const unsigned char* p = csr_der.data();
  x509_req_ptr req{csr_der.size() <= max_pkcs10_bytes
                       ? d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size()))
                       : nullptr};
  EVP_PKEY* key = req ? X509_REQ_get0_pubkey(req.get()) : nullptr;
  if (!key) fail("the request's public key cannot be read");
  return read_ca_response(der, key);
}

ca_response read_ca_response_base64(std::string_view text, EVP_PKEY* leaf_key) {
  // Base64 is 4/3 of the bytes, plus line breaks: twice the bound is ample.
  if (text.size() > 2 * max_ca_response_bytes)
    fail("the CA's answer is larger than " + std::to_string(max_ca_response_bytes) + " bytes");
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact.push_back(c);
  auto der = base64_decode(compact);
  if (!der) fail("the CA's answer is not base64");
  return read_ca_response(*der, leaf_key);
}

}  // namespace cbcs::crypto
