#pragma once
// CMS for Microsoft AD CS: requests an enrollment agent signs on behalf of
// another subject, and the CA's answers (certs-only PKCS #7, CMC responses).
//
// The request follows [MS-WCCE] 3.1.1.4.3.3.2 "Enroll on Behalf of Request
// Using CMS and PKCS #10 Request Formats" (the CA's side: 3.2.2.6.2.1.2.1.1):
// a SignedData whose eContentType is id-data (1.2.840.113549.1.7.1) and whose
// eContent is the DER PKCS #10; the agent certificate in `certificates`; and
// in the first SignerInfo's signed attributes szOID_ENROLLMENT_NAME_VALUE_PAIR
// (1.3.6.1.4.1.311.13.2.1) with the pair requestername=DOMAIN\user, which
// the CA uses for the issued certificate's subject.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.hpp"
#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

// A request we cannot build or an answer we cannot read; what() is one line.
class cms_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// szOID_ENROLLMENT_NAME_VALUE_PAIR ([MS-WCCE] 2.2.2.7.10).
inline constexpr const char* enrollment_name_value_pair_oid = "1.3.6.1.4.1.311.13.2.1";

struct name_value_pair {
  std::string name;   // UTF-8
  std::string value;  // UTF-8
  bool operator==(const name_value_pair&) const = default;
};

// The DER of one EnrollmentNameValuePair ::= SEQUENCE { name BMPString,
// value BMPString } ([MS-WCCE] 2.2.2.7.10), from UTF-8. Throws cms_error for
// text that is not UTF-8 or has a character outside the BMP.
bytes encode_name_value_pair(const name_value_pair& pair);

struct on_behalf_request {
  byte_view pkcs10_der;           // the subject's request, as SCM sent it
  EVP_PKEY* agent_key = nullptr;  // RSA, or ECDSA on P-256 or P-384
  X509* agent_cert = nullptr;     // holds the Certificate Request Agent EKU
  std::vector<X509*> chain;       // added to `certificates` after the agent's
  std::string requester_name;     // DOMAIN\user: the subject's SAM name
};

// The DER ContentInfo (id-signedData) of the request, signed with SHA-256.
// Signed attributes: contentType, messageDigest, signingTime (OpenSSL adds
// it) and the requestername pair. Throws cms_error naming the problem.
bytes sign_on_behalf_request(const on_behalf_request& request);

// The name-value pairs in the signed attributes of the first SignerInfo of a
// DER CMS, in order; each attribute value may be one pair (what Windows
// writes) or a SEQUENCE OF pairs (the form 2.2.2.7.10 prints). For tests and
// the simulator's CA. Throws cms_error on malformed input.
std::vector<name_value_pair> signed_name_value_pairs(byte_view cms_der);

// --- Answers ---------------------------------------------------------------

// CMCStatus (RFC 5272 §6.1.1; RFC 2797 §5.1.1).
enum class cmc_status {
  absent,  // certs-only answer, or a CMC answer without a status control
  success,
  failed,
  pending,
  no_support,
  confirm_required,
  pop_required,
  partial,
  unknown,  // a value we do not know, or a control we could not read
};
std::string_view to_string(cmc_status status);

struct ca_response {
  // PEM, leaf first, then its issuers as they chain, then the rest as found.
  std::vector<std::string> certificates;
  bool cmc = false;  // the content was a PKIResponse (id-cct-PKIResponse)
  cmc_status status = cmc_status::absent;
  std::string status_string;      // statusString, UTF-8, if sent
  std::optional<long> fail_info;  // CMCFailInfo, if sent
  bytes pend_token;               // PendInfo.pendToken, as sent
  std::string problem;            // why the status reads `unknown`
};

// Answers larger than this are refused unread (a chain is a few kB).
inline constexpr std::size_t max_ca_response_bytes = 1024 * 1024;

// Reads a DER ContentInfo holding a SignedData: a certs-only ("degenerate")
// PKCS #7 ([MS-WCCE] 2.2.2.8, first format) or a CMC Full PKI Response (the
// second format; RFC 5272 §3.2.2, as CES returns it in the PKCS7
// BinarySecurityToken of its RequestSecurityTokenResponseCollection,
// [MS-WSTEP] 3.1.4.1.1.2). The answer's own signature
// is not checked: the TLS channel to the CA vouches for it, and the chain is
// checked where it is used. When leaf_key is given, the leaf is the
// certificate for that public key, and its absence is an error (except in
// a CMC answer that is not a success). Throws cms_error with one line.
ca_response read_ca_response(byte_view der, EVP_PKEY* leaf_key = nullptr);

// The same with the leaf found by the public key of a DER PKCS #10.
ca_response read_ca_response_for_csr(byte_view der, byte_view csr_der);

// The same from base64 as SOAP carries it: line breaks, spaces and tabs
// anywhere are skipped ([MS-WSTEP] answers wrap it with CR LF).
ca_response read_ca_response_base64(std::string_view text, EVP_PKEY* leaf_key = nullptr);

}  // namespace cbcs::crypto
